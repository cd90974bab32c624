/**
 * `npm run bench:scale`: target (6) of the performance targets, whether verify keeps its pace as
 * the store grows. The one-time verify scenario of `npm run bench` (bench/links.ts) runs against a
 * store of 1,000 users and then against one of 1,000,000, each store fresh, written in bulk
 * (bench/seed.ts), each with its own latchkey server process; the target is ≥ 0.9× the small
 * store's throughput with the large one. Both servers run side by side and the timed runs
 * alternate between them for BENCH_ROUNDS rounds (3), each size's median round compared, so the
 * slow drift of a shared machine falls on both alike.
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
import { type Server, startServer } from './children.js'
import { freshStore } from './database.js'
import { benchLatchkey } from './latchkey.js'
import { oneTimeScenario } from './links.js'
import { type Measured, measureRounds, reportFailures } from './load.js'
import { DATABASE_URL, positiveInt } from './options.js'
import {
  cpuPerRequest,
  LEGEND,
  mib,
  OUTCOME_COLUMNS,
  outcomeCells,
  printHeader,
  printTable,
  printTarget,
  reqPerSecond,
  roundsCell,
} from './report.js'
import { atExit, out, runBench } from './run.js'
import type { Scenario } from './scenario.js'
import { seedUsers } from './seed.js'

const SMALL = 1_000
const LARGE = positiveInt('BENCH_SCALE_USERS', 1_000_000)
const ROUNDS = positiveInt('BENCH_ROUNDS', 3)
/** The most users requests draw from (see bench/verify.ts). */
const SAMPLE = 10_000
const TARGET = 0.9

interface Sized {
  users: number
  seedSeconds: number
  server: Server
  scenario: Scenario
}

async function main(): Promise<number> {
  if (DATABASE_URL) {
    throw new Error(
      'bench:scale makes a fresh database per size: use --postgres, not BENCH_DATABASE_URL',
    )
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'))
  atExit(() => rmSync(dataDir, { recursive: true, force: true }))

  printHeader('latchkey benchmark: verify as the store grows', ROUNDS)
  let label = ''
  const sized: Sized[] = []
  for (const users of [SMALL, LARGE]) {
    const store = await freshStore(join(dataDir, `users-${users}`))
    label = store.label
    const latchkey = await benchLatchkey(store)
    const seedStart = performance.now()
    const sample = await seedUsers(latchkey.config, users, SAMPLE)
    const seedSeconds = (performance.now() - seedStart) / 1000
    out(`data ${users} users written to ${store.label} in ${seedSeconds.toFixed(1)} s`)
    const server = await startServer('latchkey', latchkey.serverEnv)
    const name = `verify one-time, ${users} users`
    const scenario = oneTimeScenario(server, sample, latchkey, name)
    sized.push({ users, seedSeconds, server, scenario })
  }
  out()

  // Both servers are up from the start, and the rounds alternate between them.
  const outcomes = await measureRounds(
    sized.map((s) => s.scenario),
    ROUNDS,
  )
  const measured = []
  for (const s of sized) {
    measured.push({
      ...s,
      outcome: outcomes.get(s.scenario) as Measured,
      rssKiB: (await s.server.stop()).maxRssKiB,
    })
  }
  printTable([
    ['store', ...OUTCOME_COLUMNS, 'peak RSS', 'written in', 'requests', 'errors', 'rounds req/s'],
    ...measured.map((m) => [
      m.outcome.failures.length > 0 ? `${m.scenario.name} (FAILED)` : m.scenario.name,
      ...outcomeCells(m.outcome),
      mib(m.rssKiB),
      `${m.seedSeconds.toFixed(1)} s`,
      String(m.outcome.result['2xx'] + m.outcome.result.non2xx),
      String(m.outcome.errors),
      roundsCell(m.outcome),
    ]),
  ])
  for (const line of LEGEND) out(line)
  out()
  const [small, large] = measured.map((m) => reqPerSecond(m.outcome)) as [number, number]
  const ratio = large / small
  printTarget(
    `(6) scale (${label})`,
    `${ratio.toFixed(2)}× with ${LARGE} users against ${SMALL}`,
    `≥ ${TARGET.toFixed(2)}×`,
    ratio >= TARGET,
  )
  // CPU time per request suffers less than throughput from others' load on a shared machine.
  const [smallCpu, largeCpu] = measured.map((m) => cpuPerRequest(m.outcome)) as [number, number]
  out(
    `server CPU per request: ${(largeCpu / smallCpu).toFixed(2)}× with ${LARGE} users against ` +
      `${SMALL} (reported, no target)`,
  )
  return reportFailures(measured.map((m) => m.outcome))
}

await runBench(main)
