/**
 * `npm run bench`: the verify hot path, and the session calls a backend makes after it (refresh,
 * introspection), over real HTTP, side by side with two bare Fastify floors, in the same run,
 * and the performance targets checked against them. See DESIGN.md, "Performance".
 *
 * This process is the load generator (autocannon, driven programmatically, 32 connections,
 * pipelining 1: the targets are stated at 32 connections). Each server runs alone in a child
 * process of its own (bench/servers.mjs): latchkey, the signing floor and the constant floor, so
 * none shares an event loop with the load generator or with another server, and each one's CPU
 * time and peak RSS are its own. The children run plain node, latchkey from its build (the npm
 * script brings dist/ up to date first), as in production. All listen on 127.0.0.1, port 0.
 * Everything lives in a temporary directory that is removed at the end.
 *
 * Scenarios, each a warm-up and then a timed run with the same settings:
 * - signing floor: POST /sign, a bare route that only signs the same session JWT with jose (same
 *   body and headers as verify, ignored): the floor the targets are stated against;
 * - node:crypto signing: POST /sign-node on the same server, the same JWT signed as latchkey signs
 *   it (node:crypto's synchronous sign, through latchkey's SessionKeys), reported beside it;
 * - constant floor: POST /constant, a bare route that parses the same body and answers a constant
 *   JSON: Fastify alone;
 * - one-time: POST /v1/links/verify, every request with a fresh one-time login token (the
 *   conditional seq update). A user goes back into the pool only after a 200, with seq + 1, so a
 *   token is never stale, whatever the run's length;
 * - reusable: the same with one_time false tokens (touchLogin instead of consume);
 * - refresh: POST /v1/sessions/refresh under rotation, one chain of refresh tokens per request
 *   in flight, each request presenting the latest token of its chain (bench/sessions.ts);
 * - introspect: POST /v1/sessions/introspect {jwt} with JWTs of sessions opened just before;
 * - forged: POST /v1/links/verify with a well-formed 64-character token whose MAC is wrong (made
 *   with another secret under the same kid), which must answer 401 token_invalid: decoding, one
 *   HMAC and the problem answer, never the store.
 * Every scenario's throughput is also given as a ratio to each floor's. The targets follow, each
 * with what was measured and whether it is met: (1) one-time verify ≥ 1.3× the signing floor;
 * (2) forged ≥ 0.8× the constant floor; (3) refresh ≥ 1.0× the signing floor (introspection
 * reported); (4) every latchkey scenario's p99 ≤ the signing floor's, and no response of a timed
 * latchkey run over 100 ms; (5) latchkey's peak RSS ≤ 1.3× the constant floor's. Target (6),
 * scale, is `npm run bench:scale` (bench/scale.ts).
 *
 * Store: the embedded SQLite file; `npm run bench -- --postgres` (or BENCH_POSTGRES=1) measures
 * on a PostgreSQL database the bench creates on the server the tests use (POSTGRES_TEST_URL,
 * postgres://postgres@127.0.0.1:5432/postgres by default) and drops at the end;
 * BENCH_DATABASE_URL names an existing, empty database to use instead (its tables are filled with
 * the bench users and left there). The users are written in bulk, as the service's findOrCreate
 * would have written them, before the servers start (bench/seed.ts).
 *
 * Environment: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (3), BENCH_ROUNDS (1: with more, every
 * scenario runs that many times, round robin, and the table shows each one's median round, with
 * the slowest response and the errors of all), BENCH_USERS (10000: users in the store; requests
 * draw from 10,000 of them at most, picked at random), and the store's above.
 * Exits non-zero, and says so, when any response was not 2xx (401 token_invalid for the forged
 * token), any request failed, or an answer was not the expected one (an introspection saying
 * inactive). A target not met is reported, not a failure of the run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Server, startServer } from './children.js'
import { freshStore } from './database.js'
import { benchLatchkey } from './latchkey.js'
import {
  floorScenario,
  forgedScenario,
  oneTimeScenario,
  reusableScenario,
  reusableTokens,
} from './links.js'
import { type Measured, measureRounds, reportFailures } from './load.js'
import { CONNECTIONS, PIPELINING, positiveInt } from './options.js'
import {
  LEGEND,
  mib,
  OUTCOME_COLUMNS,
  outcomeCells,
  p99,
  printHeader,
  printTable,
  printTarget,
  reqPerSecond,
  roundsCell,
} from './report.js'
import { atExit, out, runBench } from './run.js'
import type { Scenario } from './scenario.js'
import { seedUsers } from './seed.js'
import { introspectScenario, refreshScenario, type SessionSource } from './sessions.js'

const USERS = positiveInt('BENCH_USERS', 10_000)
const ROUNDS = positiveInt('BENCH_ROUNDS', 1)
/** The most users requests draw from: enough to spread them over the store. */
const SAMPLE = 10_000
// Distinct sessions the introspection run cycles through.
const INTROSPECTED_SESSIONS = 1000
/** No response of a latchkey run may take longer. */
const MAX_MS = 100

async function main(): Promise<number> {
  if (USERS < CONNECTIONS * 10) throw new Error(`BENCH_USERS must be at least ${CONNECTIONS * 10}`)
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'))
  atExit(() => rmSync(dataDir, { recursive: true, force: true }))
  const store = await freshStore(dataDir)
  const latchkey = await benchLatchkey(store)

  const setupStart = performance.now()
  const users = await seedUsers(latchkey.config, USERS, SAMPLE)
  const setupSeconds = (performance.now() - setupStart) / 1000

  const [server, signing, constant] = [
    await startServer('latchkey', latchkey.serverEnv),
    await startServer('signing', latchkey.signingEnv),
    await startServer('constant', {}),
  ] as const
  const { headers } = latchkey
  const token = reusableTokens(users, latchkey)
  await checkSameJwtShape(server, signing, headers, token())

  const sessionSource: SessionSource = {
    server,
    headers,
    loginToken: token,
    concurrency: CONNECTIONS,
  }
  const floor = (name: string, on: Server, path: string) =>
    floorScenario(name, on, path, latchkey, token)
  const floors = {
    signing: floor('signing floor: bare Fastify, jose sign', signing, '/sign'),
    signingNode: floor('bare Fastify, node:crypto sign (as latchkey)', signing, '/sign-node'),
    constant: floor('constant floor: bare Fastify, constant JSON', constant, '/constant'),
  }
  const ours = {
    oneTime: oneTimeScenario(server, users, latchkey),
    reusable: reusableScenario(server, users, latchkey),
    refresh: refreshScenario(sessionSource, CONNECTIONS * PIPELINING),
    introspect: introspectScenario(sessionSource, INTROSPECTED_SESSIONS),
    forged: forgedScenario(server, users, latchkey),
  }

  printHeader('latchkey benchmark: verify, refresh, introspect, against two bare floors', ROUNDS)
  out(`data ${USERS} users in ${store.label} (written in ${setupSeconds.toFixed(1)} s)`)
  out()

  const scenarios = [...Object.values(floors), ...Object.values(ours)]
  const outcomes = await measureRounds(scenarios, ROUNDS)
  const rss = {
    latchkey: (await server.stop()).maxRssKiB,
    signing: (await signing.stop()).maxRssKiB,
    constant: (await constant.stop()).maxRssKiB,
  }

  const of = (scenario: Scenario) => outcomes.get(scenario) as Measured
  const signingRate = reqPerSecond(of(floors.signing))
  const constantRate = reqPerSecond(of(floors.constant))
  printTable([
    [
      'scenario',
      ...OUTCOME_COLUMNS,
      'vs signing',
      'vs constant',
      'requests',
      'errors',
      'rounds req/s',
    ],
    ...[...outcomes.values()].map((o) => [
      o.failures.length > 0 ? `${o.scenario.name} (FAILED)` : o.scenario.name,
      ...outcomeCells(o),
      `${(reqPerSecond(o) / signingRate).toFixed(2)}×`,
      `${(reqPerSecond(o) / constantRate).toFixed(2)}×`,
      String(o.result['2xx'] + o.result.non2xx),
      String(o.errors),
      roundsCell(o),
    ]),
  ])
  for (const line of LEGEND) out(line)
  out(
    'vs signing, vs constant: throughput against the signing floor and against the constant floor',
  )
  out()
  out(
    `peak RSS (maxRSS): latchkey ${mib(rss.latchkey)}, signing floor ${mib(rss.signing)}, ` +
      `constant floor ${mib(rss.constant)}, load generator ${mib(process.resourceUsage().maxRSS)}`,
  )

  out()
  out(`targets (${store.label}):`)
  const ratio = (scenario: Scenario, floor: number) => reqPerSecond(of(scenario)) / floor
  const atLeast = (label: string, value: number, target: number, floor: string) =>
    printTarget(label, `${value.toFixed(2)}× ${floor}`, `≥ ${target.toFixed(2)}×`, value >= target)
  atLeast('(1) verify one-time', ratio(ours.oneTime, signingRate), 1.3, 'the signing floor')
  atLeast('(2) forged token', ratio(ours.forged, constantRate), 0.8, 'the constant floor')
  atLeast('(3) refresh', ratio(ours.refresh, signingRate), 1.0, 'the signing floor')
  const introspect = ratio(ours.introspect, signingRate).toFixed(2)
  out(`(3) introspect: ${introspect}× the signing floor (reported, no target)`)
  const latchkeyRuns = Object.values(ours).map(of)
  const slowest = (value: (o: Measured) => number) =>
    latchkeyRuns.reduce((worst, o) => (value(o) > value(worst) ? o : worst))
  const worstP99 = slowest(p99)
  const floorP99 = p99(of(floors.signing))
  printTarget(
    '(4) p99',
    `${p99(worstP99).toFixed(2)} ms at the most (${worstP99.scenario.name})`,
    `≤ the signing floor's ${floorP99.toFixed(2)} ms`,
    p99(worstP99) <= floorP99,
  )
  const worstMax = slowest((o) => o.maxMs)
  printTarget(
    '(4) slowest response',
    `${worstMax.maxMs.toFixed(1)} ms (${worstMax.scenario.name})`,
    `≤ ${MAX_MS} ms`,
    worstMax.maxMs <= MAX_MS,
  )
  const memory = rss.latchkey / rss.constant
  printTarget(
    '(5) peak RSS',
    `${memory.toFixed(2)}× the constant floor (${mib(rss.latchkey)} vs ${mib(rss.constant)})`,
    '≤ 1.30×',
    memory <= 1.3,
  )
  out('(6) scale: npm run bench:scale')

  return reportFailures([...outcomes.values()])
}

/**
 * Before any timing: both servers answer, and the two JWTs have the same header and the same
 * claim names, so the signing floor really signs what latchkey signs.
 */
async function checkSameJwtShape(
  latchkey: Server,
  signing: Server,
  headers: Record<string, string>,
  token: string,
): Promise<void> {
  const post = async (server: Server, path: string): Promise<Record<string, unknown>> => {
    const body = JSON.stringify({ token })
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body })
    if (response.status !== 200) {
      throw new Error(`${path} answered ${response.status}: ${await response.text()}`)
    }
    return (await response.json()) as Record<string, unknown>
  }
  const verified = await post(latchkey, '/v1/links/verify')
  const signed = await post(signing, '/sign')
  const signedNode = await post(signing, '/sign-node')
  const shape = (jwt: unknown): string => {
    const [header, payload] = String(jwt)
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as object)
    return JSON.stringify({ header, claims: Object.keys(payload ?? {}).sort() })
  }
  const session = verified.session as { jwt?: unknown } | null
  const ours = shape(session?.jwt)
  for (const theirs of [shape(signed.jwt), shape(signedNode.jwt)]) {
    if (ours !== theirs)
      throw new Error(`the signing floor's JWT differs: ${theirs} vs latchkey ${ours}`)
  }
}

await runBench(main)
