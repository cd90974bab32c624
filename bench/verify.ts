/**
 * `npm run bench`: the verify hot path, and the session calls a backend makes after it (refresh,
 * introspection), over real HTTP, side by side with a bare Fastify route that only signs the same
 * session JWT, in the same run. See DESIGN.md, "Performance".
 *
 * This process is the load generator (autocannon, driven programmatically); the servers run in a
 * child process (bench/servers.ts), so the two never share an event loop. Both listen on
 * 127.0.0.1, port 0. Everything lives in a temporary directory that is removed at the end.
 *
 * Scenarios, each a warm-up and then a timed run with the same settings:
 * - baseline: POST /sign on the bare route (same body and headers as verify, ignored);
 * - constant floor: POST /constant on the same bare server, which parses the same body and answers
 *   a constant JSON: Fastify alone;
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
 * Every scenario's throughput is also given as a ratio to the baseline's (the signing floor) and
 * to the constant floor's (the target for the forged token is ≥ 0.8× the constant floor).
 *
 * Environment: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (3), BENCH_USERS (10000), and
 * BENCH_DATABASE_URL: a postgres:// URL of an empty database to measure on PostgreSQL instead of
 * the embedded SQLite file (its tables are filled with the bench users and left there).
 * Exits non-zero, and says so, when any response was not 2xx (401 token_invalid for the forged
 * token), any request failed, or an answer was not the expected one (an introspection saying
 * inactive).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { arch, cpus, loadavg, platform, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { openStore } from '../src/app.js'
import { generateApiKey } from '../src/auth/api-keys.js'
import { loadConfig } from '../src/config/index.js'
import { generateSessionKey } from '../src/sessions/jwt.js'
import { Flag, Purpose } from '../src/tokens/codec.js'
import { KeyRing } from '../src/tokens/keyring.js'
import { Ring } from './ring.js'
import { FaultTally, type Scenario } from './scenario.js'
import type { ServerMessage } from './servers.js'
import { introspectScenario, refreshScenario, type SessionSource, withBody } from './sessions.js'

const SECONDS = positiveInt('BENCH_SECONDS', 10)
const WARMUP_SECONDS = positiveInt('BENCH_WARMUP_SECONDS', 3)
const USERS = positiveInt('BENCH_USERS', 10_000)
const DATABASE_URL = process.env.BENCH_DATABASE_URL?.trim() || undefined
const CONNECTIONS = 10
const PIPELINING = 1
// Distinct sessions the introspection run cycles through.
const INTROSPECTED_SESSIONS = 1000
const HOST = '127.0.0.1'

interface BenchUser {
  id: string
  rev: number
  seq: number
}

/** Per-connection autocannon context: the user whose one-time token is in flight. */
interface Slot {
  user?: BenchUser | undefined
}

interface Outcome extends Run {
  scenario: Scenario
  /** CPU time (user + system) the server process spent during the timed run. */
  cpuMicros: number
  /** Requests of the timed run without the answer they should have had. */
  errors: number
  failures: string[]
}

const out = (text = ''): void => void process.stdout.write(`${text}\n`)

const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'))
let child: ChildProcess | undefined

function cleanUp(): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill()
  rmSync(dataDir, { recursive: true, force: true })
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanUp()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  })
}

async function main(): Promise<number> {
  if (USERS < CONNECTIONS * 10) throw new Error(`BENCH_USERS must be at least ${CONNECTIONS * 10}`)
  const serviceKey = generateApiKey('bench', 'service')
  const latchkeyEnv = {
    DATA_DIR: dataDir,
    PUBLIC_URL: 'https://login.bench.test',
    LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
    SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 'bench-key' })]),
    API_KEYS: serviceKey.entry,
    LOG_LEVEL: 'silent',
    // The per-key limit stays on at its default, as in production: its cost is part of what is
    // measured, and a run that reached it would fail on its 429s (the default is meant to be
    // out of reach of one instance at full load; see src/config/rate-settings.ts).
    ...(DATABASE_URL ? { DATABASE_URL } : {}),
  }
  const config = loadConfig(latchkeyEnv)
  const keyring = new KeyRing(
    config.linkSecrets.map((s) => ({ kid: s.kid, secret: Buffer.from(s.secret, 'base64url') })),
  )

  // The users exist before the servers start. Tokens are minted here, as issueLink would, each
  // when its request is built, so none can expire however long the run.
  const setupStart = performance.now()
  const store = openStore(config)
  const users: BenchUser[] = []
  try {
    for (let i = 0; i < USERS; i++) {
      const { user } = await store.findOrCreate(`user${i}@bench.test`, Date.now())
      users.push({ id: user.id, rev: user.rev, seq: user.seq })
    }
  } finally {
    await store.close()
  }
  const mintLogin = (user: BenchUser, oneTime: boolean): string =>
    keyring.mint({
      purpose: Purpose.Login,
      flags: oneTime ? Flag.OneTime : 0,
      userId: user.id,
      expiresAt: Math.floor(Date.now() / 1000) + config.linkTtl,
      rev: user.rev,
      seq: oneTime ? user.seq : 0,
    })
  const setupSeconds = (performance.now() - setupStart) / 1000

  const server = fork(fileURLToPath(new URL('./servers.ts', import.meta.url)), [], {
    env: { ...process.env, BENCH_LATCHKEY_ENV: JSON.stringify(latchkeyEnv) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  child = server
  const ports = await nextMessage(server, 'ready')

  const headers = {
    authorization: `Bearer ${serviceKey.key}`,
    'content-type': 'application/json',
  }
  await checkSameJwtShape(ports, headers, mintLogin(users[0] as BenchUser, false))

  // One-time: a FIFO pool of users whose next token is known to be fresh.
  const pool = new Ring<BenchUser>(users)
  const oneTimeFaults = new FaultTally()
  const reusableFaults = new FaultTally()
  const forgedFaults = new FaultTally()
  // Same kid, another secret: the token decodes and names a real user, and only its MAC is wrong.
  const forger = new KeyRing([
    { kid: config.linkSecrets[0]?.kid as number, secret: randomBytes(32) },
  ])
  const forged = (): string =>
    forger.mint({
      purpose: Purpose.Login,
      flags: 0,
      userId: (users[nextReusable++ % users.length] as BenchUser).id,
      expiresAt: Math.floor(Date.now() / 1000) + config.linkTtl,
      rev: 0,
      seq: 0,
    })
  const staleToken = mintLogin({ ...(users[0] as BenchUser), seq: 0xffffffff }, true)
  let nextReusable = 0
  const reusable = (): string => mintLogin(users[nextReusable++ % users.length] as BenchUser, false)
  const withToken = (request: autocannon.Request, token: string): autocannon.Request =>
    withBody(request, { token })
  const sessionSource: SessionSource = {
    url: `http://${HOST}:${ports.latchkey}`,
    headers,
    loginToken: reusable,
    concurrency: CONNECTIONS,
  }

  const scenarios: Scenario[] = [
    {
      name: 'baseline: bare Fastify, jose sign',
      port: ports.baseline,
      path: '/sign',
      setupRequest: (request) => withToken(request, reusable()),
    },
    {
      name: 'constant floor: bare Fastify, constant JSON',
      port: ports.baseline,
      path: '/constant',
      setupRequest: (request) => withToken(request, reusable()),
    },
    {
      name: 'latchkey verify, one-time link',
      port: ports.latchkey,
      path: '/v1/links/verify',
      setupRequest: (request, context) => {
        const user = pool.shift()
        ;(context as Slot).user = user
        if (!user) oneTimeFaults.other('requests found the one-time user pool empty')
        // An empty pool only follows thousands of failures; the stale token makes it visible.
        return withToken(request, user ? mintLogin(user, true) : staleToken)
      },
      onResponse: (status, body, context) => {
        const slot = context as Slot
        const user = slot.user
        slot.user = undefined
        if (status === 200) checkOpened(body, oneTimeFaults)
        if (user && status === 200) {
          user.seq += 1
          pool.push(user)
        }
      },
      takeFaults: () => oneTimeFaults.take(),
    },
    {
      name: 'latchkey verify, reusable link',
      port: ports.latchkey,
      path: '/v1/links/verify',
      setupRequest: (request) => withToken(request, reusable()),
      onResponse: (status, body) => {
        if (status === 200) checkOpened(body, reusableFaults)
      },
      takeFaults: () => reusableFaults.take(),
    },
    refreshScenario(ports.latchkey, sessionSource, CONNECTIONS * PIPELINING),
    introspectScenario(ports.latchkey, sessionSource, INTROSPECTED_SESSIONS),
    {
      name: 'latchkey reject a forged token',
      port: ports.latchkey,
      path: '/v1/links/verify',
      expectStatus: 401,
      setupRequest: (request) => withToken(request, forged()),
      onResponse: (status, body) => {
        if (status !== 401) forgedFaults.wrong(`${status} instead of 401`)
        else if (!body.includes('"code":"token_invalid"'))
          forgedFaults.wrong('401 not token_invalid')
      },
      takeFaults: () => forgedFaults.take(),
    },
  ]

  const cpu = cpus()
  out('latchkey benchmark: verify, refresh, introspect')
  out(`node ${process.version} · ${platform()} ${arch()}`)
  const busy = loadavg()[0]?.toFixed(2) ?? '?'
  out(
    `cpu  ${cpu[0]?.model.trim() ?? 'unknown'} · ${cpu.length} cores · load average ${busy} at start`,
  )
  out(
    `run  ${CONNECTIONS} connections, pipelining ${PIPELINING}, ` +
      `${WARMUP_SECONDS} s warm-up + ${SECONDS} s per scenario`,
  )
  const database = config.database.kind === 'postgres' ? 'PostgreSQL' : 'SQLite'
  out(`data ${USERS} users in ${database} (set up in ${setupSeconds.toFixed(1)} s)`)
  out()

  const outcomes: Outcome[] = []
  for (const scenario of scenarios) {
    await scenario.prepare?.()
    const warmup = await fire(scenario, headers, WARMUP_SECONDS)
    const warmupFaults = scenario.takeFaults?.()
    await scenario.prepare?.()
    const cpuBefore = await serverCpu(server)
    const run = await fire(scenario, headers, SECONDS)
    const cpuMicros = (await serverCpu(server)) - cpuBefore
    const faults = scenario.takeFaults?.()
    const failures = [
      ...[...problems(warmup.result, scenario), ...(warmupFaults?.lines ?? [])].map(
        (p) => `warm-up: ${p}`,
      ),
      ...problems(run.result, scenario),
      ...(faults?.lines ?? []),
    ]
    // An expected error status is not an error; any other status is one of the scenario's faults.
    const unexpected = scenario.expectStatus === undefined ? run.result.non2xx : 0
    const errors = unexpected + run.result.errors + (faults?.wrong ?? 0)
    outcomes.push({ scenario, ...run, cpuMicros, errors, failures })
  }

  const exited = new Promise((resolve) => server.once('exit', resolve))
  server.send({ type: 'stop' })
  const { maxRssKiB } = await nextMessage(server, 'stopped')
  await exited

  printTable(outcomes)
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`
  out()
  out(
    `peak RSS (maxRSS): servers ${mib(maxRssKiB)}, ` +
      `load generator ${mib(process.resourceUsage().maxRSS)}`,
  )

  const failed = outcomes.filter((o) => o.failures.length > 0)
  if (failed.length === 0) return 0
  const lines = failed.flatMap((o) => o.failures.map((f) => `  ${o.scenario.name}: ${f}`))
  process.stderr.write(
    `\n${'!'.repeat(72)}\nBENCHMARK INVALID: not every request got the answer it should\n` +
      `${lines.join('\n')}\n${'!'.repeat(72)}\n`,
  )
  return 1
}

interface Run {
  result: autocannon.Result
  /** Latency of every expected (2xx) response, ms, at full resolution (autocannon's histogram keeps whole ms). */
  latencies: Float64Array
}

function fire(scenario: Scenario, headers: Record<string, string>, seconds: number): Promise<Run> {
  const latencies: number[] = []
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://${HOST}:${scenario.port}`,
        connections: CONNECTIONS,
        pipelining: PIPELINING,
        duration: seconds,
        setupClient: (client) => {
          client.on('response', (status: number, _bytes: number, ms: number) => {
            if (expected(status, scenario)) latencies.push(ms)
          })
        },
        requests: [
          {
            method: 'POST',
            path: scenario.path,
            headers,
            setupRequest: scenario.setupRequest,
            onResponse: scenario.onResponse,
          },
        ],
      },
      (error: unknown, result) => {
        if (error) reject(error)
        else resolve({ result, latencies: Float64Array.from(latencies).sort() })
      },
    )
  })
}

/** A login link's verify answer carries a session (JWT and refresh token); null would be wrong. */
function checkOpened(body: string, faults: FaultTally): void {
  if (!body.includes('"refresh_token":"')) faults.wrong('200 without a session')
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

/** Whether a status is the one the scenario expects: 2xx unless it says otherwise. */
function expected(status: number, scenario: Scenario): boolean {
  return scenario.expectStatus === undefined
    ? status >= 200 && status < 300
    : status === scenario.expectStatus
}

/**
 * Every way a run can be wrong; empty when every request got a 2xx answer (the scenario's expected
 * status instead, whose other answers its onResponse counts as faults).
 */
function problems(result: autocannon.Result, scenario: Scenario): string[] {
  const found: string[] = []
  if (scenario.expectStatus !== undefined) {
    const count = result.statusCodeStats?.[`${scenario.expectStatus}`]?.count ?? 0
    if (count === 0) found.push(`no ${scenario.expectStatus} response at all`)
  } else if (result.non2xx > 0) {
    const codes = Object.entries(result.statusCodeStats ?? {})
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, stat]) => `${code} × ${stat.count ?? 0}`)
    found.push(`${result.non2xx} non-2xx responses (${codes.join(', ')})`)
  }
  if (result.errors > 0) found.push(`${result.errors} errors (${result.timeouts} timeouts)`)
  if (result.resets > 0) found.push(`${result.resets} request pipeline resets`)
  if (scenario.expectStatus === undefined && result['2xx'] === 0) {
    found.push('no successful response at all')
  }
  return found
}

function printTable(outcomes: Outcome[]): void {
  const base = outcomes[0]?.result.requests.mean ?? Number.NaN
  const constant =
    outcomes.find((o) => o.scenario.path === '/constant')?.result.requests.mean ?? Number.NaN
  const rows = [
    [
      'scenario',
      'req/s',
      'p50 ms',
      'p99 ms',
      'vs baseline',
      'vs constant',
      'server CPU µs/req',
      'requests',
      'errors',
    ],
    ...outcomes.map(({ scenario, result, latencies, cpuMicros, errors, failures }) => [
      failures.length > 0 ? `${scenario.name} (FAILED)` : scenario.name,
      result.requests.mean.toFixed(0),
      percentile(latencies, 50).toFixed(2),
      percentile(latencies, 99).toFixed(2),
      `${(result.requests.mean / base).toFixed(2)}×`,
      `${(result.requests.mean / constant).toFixed(2)}×`,
      (cpuMicros / Math.max(1, result['2xx'] + result.non2xx)).toFixed(0),
      String(result['2xx'] + result.non2xx),
      String(errors),
    ]),
  ]
  const widths = (rows[0] as string[]).map((_, i) =>
    Math.max(...rows.map((r) => r[i]?.length ?? 0)),
  )
  for (const row of rows) {
    out(
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  '),
    )
  }
  out('server CPU µs/req: user + system time of the server process over the run, per response')
  out('vs baseline: throughput against the signing floor; vs constant: against the constant floor')
  out('errors: unexpected statuses, failed requests and wrong answers of the timed run')
  const forged = outcomes.find((o) => o.scenario.expectStatus === 401)
  if (forged) {
    const ratio = forged.result.requests.mean / constant
    out(`forged token vs constant floor: ${ratio.toFixed(2)}× (target: ≥ 0.80×)`)
  }
}

/**
 * Before any timing: both servers answer, and the two JWTs have the same header and the same
 * claim names, so the baseline really signs what latchkey signs.
 */
async function checkSameJwtShape(
  ports: { latchkey: number; baseline: number },
  headers: Record<string, string>,
  token: string,
): Promise<void> {
  const post = async (port: number, path: string): Promise<Record<string, unknown>> => {
    const body = JSON.stringify({ token })
    const response = await fetch(`http://${HOST}:${port}${path}`, { method: 'POST', headers, body })
    if (response.status !== 200) {
      throw new Error(`${path} answered ${response.status}: ${await response.text()}`)
    }
    return (await response.json()) as Record<string, unknown>
  }
  const verified = await post(ports.latchkey, '/v1/links/verify')
  const signed = await post(ports.baseline, '/sign')
  const shape = (jwt: unknown): string => {
    const [header, payload] = String(jwt)
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as object)
    return JSON.stringify({ header, claims: Object.keys(payload ?? {}).sort() })
  }
  const session = verified.session as { jwt?: unknown } | null
  const ours = shape(session?.jwt)
  const theirs = shape(signed.jwt)
  if (ours !== theirs) throw new Error(`the baseline JWT differs: ${theirs} vs latchkey ${ours}`)
}

async function serverCpu(server: ChildProcess): Promise<number> {
  const answer = nextMessage(server, 'cpu')
  server.send({ type: 'cpu' })
  return (await answer).micros
}

/** Resolves with the child's next message of this type; rejects if it exits first. */
function nextMessage<T extends ServerMessage['type']>(
  server: ChildProcess,
  type: T,
): Promise<Extract<ServerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ServerMessage) => {
      if (message.type !== type) return
      settle()
      resolve(message as Extract<ServerMessage, { type: T }>)
    }
    const onExit = (code: number | null, signal: string | null) => {
      settle()
      reject(new Error(`bench servers exited (${signal ?? code}) before "${type}"`))
    }
    const settle = () => {
      server.off('message', onMessage)
      server.off('exit', onExit)
    }
    server.on('message', onMessage)
    server.on('exit', onExit)
  })
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a positive integer`)
  return Number(raw)
}

// Last, so that every class and constant above is initialised before main runs.
try {
  process.exitCode = await main()
} catch (error) {
  process.stderr.write(`\nBENCHMARK FAILED: ${error instanceof Error ? error.stack : error}\n`)
  process.exitCode = 1
} finally {
  cleanUp()
}
