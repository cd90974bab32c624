/**
 * `npm run bench:scale`: target (6) of the performance targets, whether verify keeps its pace as
 * the store grows. The one-time verify scenario of `npm run bench` (bench/links.ts) runs against a
 * store of 1,000 users and then against one of 1,000,000, each store fresh, written in bulk
 * (bench/seed.ts), each with its own latchkey server process; the target is ≥ 0.9× the small
 * store's throughput with the large one.
 *
 * Requests draw from 10,000 users at the most, picked at random across the store, so they reach
 * all of its indexes rather than one warm corner. Load settings as `npm run bench`
 * (bench/options.ts): BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (3), 32 connections.
 *
 * Store: SQLite files in a temporary directory; `npm run bench:scale -- --postgres` (or
 * BENCH_POSTGRES=1) measures on PostgreSQL databases the bench creates on the server the tests
 * use (POSTGRES_TEST_URL, as for `npm run bench`) and drops at the end; BENCH_DATABASE_URL is
 * refused, as each size needs a fresh database.
 * BENCH_SCALE_USERS (1000000) sets the large store's size. Exits non-zero when a request did not
 * get the answer it should; a target not met is reported, not a failure of the run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from './children.js'
import { freshStore } from './database.js'
import { benchLatchkey } from './latchkey.js'
import { oneTimeScenario } from './links.js'
import { measure, type Outcome, reportFailures } from './load.js'
import { DATABASE_URL, positiveInt } from './options.js'
import {
  LEGEND,
  mib,
  OUTCOME_COLUMNS,
  outcomeCells,
  printHeader,
  printTable,
  printTarget,
  reqPerSecond,
} from './report.js'
import { atExit, out, runBench } from './run.js'
import { seedUsers } from './seed.js'

const SMALL = 1_000
const LARGE = positiveInt('BENCH_SCALE_USERS', 1_000_000)
/** The most users requests draw from (see bench/verify.ts). */
const SAMPLE = 10_000
const TARGET = 0.9

interface Measured {
  users: number
  seedSeconds: number
  outcome: Outcome
  rssKiB: number
}

async function main(): Promise<number> {
  if (DATABASE_URL) {
    throw new Error(
      'bench:scale makes a fresh database per size: use --postgres, not BENCH_DATABASE_URL',
    )
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'))
  atExit(() => rmSync(dataDir, { recursive: true, force: true }))

  let label = ''
  const measured: Measured[] = []
  const measureWith = async (users: number): Promise<void> => {
    const store = await freshStore(join(dataDir, `users-${users}`))
    label = store.label
    const latchkey = await benchLatchkey(store)
    const seedStart = performance.now()
    const sample = await seedUsers(latchkey.config, users, SAMPLE)
    const seedSeconds = (performance.now() - seedStart) / 1000
    out(`${users} users written to ${store.label} in ${seedSeconds.toFixed(1)} s`)
    const server = await startServer('latchkey', latchkey.serverEnv)
    const name = `verify one-time, ${users} users`
    const outcome = await measure(oneTimeScenario(server, sample, latchkey, name), latchkey.headers)
    measured.push({ users, seedSeconds, outcome, rssKiB: await server.stop() })
  }

  printHeader('latchkey benchmark: verify as the store grows')
  await measureWith(SMALL)
  await measureWith(LARGE)
  out()
  printTable([
    ['store', ...OUTCOME_COLUMNS, 'peak RSS', 'written in', 'requests', 'errors'],
    ...measured.map((m) => [
      m.outcome.failures.length > 0
        ? `${m.outcome.scenario.name} (FAILED)`
        : m.outcome.scenario.name,
      ...outcomeCells(m.outcome),
      mib(m.rssKiB),
      `${m.seedSeconds.toFixed(1)} s`,
      String(m.outcome.result['2xx'] + m.outcome.result.non2xx),
      String(m.outcome.errors),
    ]),
  ])
  for (const line of LEGEND) out(line)
  out()
  const [small, large] = measured as [Measured, Measured]
  const ratio = reqPerSecond(large.outcome) / reqPerSecond(small.outcome)
  printTarget(
    `(6) scale (${label})`,
    `${ratio.toFixed(2)}× with ${LARGE} users against ${SMALL}`,
    `≥ ${TARGET.toFixed(2)}×`,
    ratio >= TARGET,
  )
  return reportFailures(measured.map((m) => m.outcome))
}

await runBench(main)
