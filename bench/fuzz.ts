/**
 * `npm run fuzz`: a million hostile requests (bench/fuzz-requests.ts: fast-check arbitraries over
 * every route) over real HTTP on 127.0.0.1, 32 in flight on kept-alive connections (a few in a
 * hundred as raw bytes on connections of their own), at the service running from its build in a
 * plain-node process of its own (bench/servers.mjs, role soak). It passes when no answer is a
 * 5xx and the process is alive at the end and answers GET /healthz; its RSS is reported. A 5xx
 * prints the request whole (it carries test keys and tokens of this run only) and the run exits
 * 1; so does a dead server, with the last requests sent before it died.
 *
 * The rate limits are on, at 1,000,000,000 a minute, so every request goes through the counters
 * and none is stopped by them before it reaches what it aims at; TRUST_PROXY is on, so hostile
 * X-Forwarded-For values become the client address the counters and IP-bound links use.
 *
 * Replaying: request n is the (n mod 1000)th value of fc.sample(arbitrary, {seed: seed + ⌊n/1000⌋,
 * numRuns: 1000}); the seed is printed at the start. The tokens and keys differ in every run
 * (the service's secrets are made anew), and the values the service handed out (HARVEST) depend
 * on answers, so a failure is best replayed from the request it prints.
 *
 * Environment: FUZZ_REQUESTS (1000000), FUZZ_SEED (20261121), FUZZ_CONCURRENCY (32).
 * SOAK_FAULT puts a failure in on purpose (BENCH_FAULT in bench/servers.mjs), for the test that
 * shows failures are seen.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import fc from 'fast-check'
import { Flag, Purpose } from '../src/tokens/codec.js'
import { KeyRing } from '../src/tokens/keyring.js'
import { formFields } from '../test/helpers/html.js'
import { type FuzzRequest, fuzzRequest, type HARVEST, type Material } from './fuzz-requests.js'
import { positiveInt } from './options.js'
import { mib } from './report.js'
import { out, runBench } from './run.js'
import { PUBLIC_URL, type SoakServer, startSoakServer } from './soak-harness.js'

const REQUESTS = positiveInt('FUZZ_REQUESTS', 1_000_000)
const SEED = Number(process.env.FUZZ_SEED ?? 20261121)
const CONCURRENCY = positiveInt('FUZZ_CONCURRENCY', 32)
const BATCH = 1000
const HUGE = '1000000000/1m'
/** How many 5xx are printed before the run stops: the first ones say what is wrong. */
const MAX_PRINTED = 10

interface Answer {
  status: number
  body: string
}

async function main(): Promise<number> {
  if (!Number.isSafeInteger(SEED)) throw new Error('FUZZ_SEED must be an integer')
  const server = await startSoakServer({
    env: {
      TRUST_PROXY: 'true',
      RATE_LIMIT_IP: HUGE,
      RATE_LIMIT_API_KEY: HUGE,
      RATE_LIMIT_RECIPIENT: HUGE,
      RATE_LIMIT_FORM_IP: HUGE,
      RATE_LIMIT_CODE: HUGE,
    },
    sampleMs: 5000,
    fault: process.env.SOAK_FAULT,
  })
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  const material = await gather(server, agent)
  const arbitrary = fuzzRequest(material)
  const harvest = new Harvest()

  out('latchkey fuzz: hostile requests at every route')
  out(`node ${process.version} · ${REQUESTS} requests · ${CONCURRENCY} in flight · seed ${SEED}`)
  out(`replay: FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS} npm run fuzz`)

  const statuses = new Map<number, number>()
  const recent: FuzzRequest[] = []
  let next = 0
  let fiveXx = 0
  let retried = 0
  let unanswered = 0
  let printed = 0
  let stop: string | undefined
  let batchIndex = -1
  let batch: FuzzRequest[] = []
  const started = performance.now()
  const progressEvery = Math.max(1000, Math.floor(REQUESTS / 20))

  const take = (): { n: number; request: FuzzRequest } | undefined => {
    if (stop || next >= REQUESTS) return undefined
    const n = next++
    const wanted = Math.floor(n / BATCH)
    if (wanted !== batchIndex) {
      batchIndex = wanted
      batch = fc.sample(arbitrary, { seed: SEED + wanted, numRuns: BATCH })
    }
    return { n, request: batch[n % BATCH] as FuzzRequest }
  }

  const inFlight = new Set<FuzzRequest>()
  const waiting = setInterval(() => {
    if (next < REQUESTS && !stop) return
    process.stderr.write(`fuzz: waiting for ${inFlight.size} answers:\n`)
    for (const r of inFlight) process.stderr.write(`  ${describe(r).slice(0, 300)}\n`)
  }, 10_000)
  const worker = async (): Promise<void> => {
    for (let item = take(); item; item = take()) {
      const request = harvest.fill(item.request)
      recent.push(request)
      if (recent.length > CONCURRENCY * 2) recent.shift()
      inFlight.add(request)
      let answer = await send(server, agent, request)
      // No answer on a kept-alive connection is most often the connection's end racing the next
      // request (the service closes one after an answer to a request it did not read whole).
      // Sent again alone, a request the service can read gets an answer, or it is a finding.
      if (answer.status === 0 && !request.raw && !server.exit()) {
        retried++
        answer = await send(server, undefined, request)
        if (answer.status === 0 && request.method !== 'CONNECT') {
          unanswered++
          if (printed++ < MAX_PRINTED) printFailure(item.n, request, answer, 'no answer')
        }
      }
      inFlight.delete(request)
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
      harvest.take(request, answer)
      if (answer.status >= 500) {
        fiveXx++
        if (printed++ < MAX_PRINTED) printFailure(item.n, request, answer, '5xx')
      }
      if (printed >= MAX_PRINTED) stop ??= `${MAX_PRINTED} failures printed`
      if (answer.status === 0 && server.exit()) stop ??= `the server ${server.exit()}`
      if ((item.n + 1) % progressEvery === 0) {
        const seconds = (performance.now() - started) / 1000
        const last = server.samples.at(-1)
        process.stderr.write(
          `fuzz: ${item.n + 1} sent, ${((item.n + 1) / seconds).toFixed(0)} req/s, ` +
            `${fiveXx} 5xx, server RSS ${last ? mib(last.rssBytes / 1024) : '? MiB'}\n`,
        )
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker)).finally(() =>
    clearInterval(waiting),
  )
  const seconds = (performance.now() - started) / 1000
  const sent = [...statuses.values()].reduce((a, b) => a + b, 0)

  const exit = server.exit()
  let health: Answer = { status: 0, body: '' }
  // On a connection of its own: a kept-alive one may be one the service is just closing (see
  // the worker), which says nothing about whether it is alive.
  if (!exit)
    health = await send(server, undefined, { method: 'GET', path: '/healthz', headers: {} })
  const first = server.samples[0]
  agent.destroy()
  const stopped = exit ? undefined : await server.stop()

  out()
  out(`sent ${sent} requests in ${seconds.toFixed(0)} s (${(sent / seconds).toFixed(0)} req/s)`)
  out(
    `answers by status: ${[...statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s || 'none'} ${n}`)
      .join(', ')}`,
  )
  out(
    `server RSS ${first ? mib(first.rssBytes / 1024) : '? MiB'} after 5 s → ${stopped ? mib(stopped.rssBytes / 1024) : '? MiB'} at the end; peak ${stopped ? mib(stopped.maxRssKiB) : '? MiB'}; it saw ${stopped?.requests ?? '?'} requests`,
  )
  if (exit) {
    out(`the server ${exit}; the last requests sent before:`)
    for (const r of recent) out(`  ${describe(r)}`)
  }
  const checks = [
    { name: '5xx', ok: fiveXx === 0, detail: `${fiveXx}` },
    {
      name: 'every request answered',
      ok: unanswered === 0,
      detail: `${unanswered} unanswered (${retried} sent again alone after no answer on a kept-alive connection)`,
    },
    { name: 'server alive', ok: !exit, detail: exit ?? 'yes' },
    {
      name: 'GET /healthz',
      ok: health.status === 200,
      detail: health.status ? String(health.status) : `no answer (${health.body || 'none'})`,
    },
    { name: 'all sent', ok: sent === REQUESTS, detail: stop ? `stopped: ${stop}` : `${sent}` },
  ]
  out()
  for (const c of checks) out(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`)
  const failed = checks.filter((c) => !c.ok)
  out(failed.length === 0 ? 'FUZZ PASSED' : `FUZZ FAILED: ${failed.map((c) => c.name).join(', ')}`)
  return failed.length === 0 ? 0 : 1
}

/** Sends one request; status 0 when no answer came (a connection closed, refused, timed out). */
function send(server: SoakServer, agent: Agent | undefined, r: FuzzRequest): Promise<Answer> {
  if (r.raw) return sendRaw(server, r.raw)
  return new Promise((resolve) => {
    let settled = false
    const done = (answer: Answer) => {
      if (!settled) resolve(answer)
      settled = true
    }
    let req: ReturnType<typeof httpRequest>
    try {
      req = httpRequest(`${server.url}${r.path}`, {
        method: r.method,
        headers: r.headers,
        // Without an agent: a connection of its own, closed after the answer.
        agent: agent ?? false,
        timeout: 40_000,
      })
    } catch (error) {
      // The client refuses to send it (a method or header it cannot put on the wire).
      done({ status: -1, body: error instanceof Error ? error.message : String(error) })
      return
    }
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        if (size < 8192) chunks.push(c)
        size += c.length
      })
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      )
      res.on('error', () => done({ status: res.statusCode ?? 0, body: '' }))
    })
    // CONNECT and Upgrade answers are not responses to Node's client: the socket is handed over.
    for (const event of ['connect', 'upgrade'] as const) {
      req.on(event, (res: IncomingMessage, socket: { destroy(): void }) => {
        socket.destroy()
        done({ status: res.statusCode ?? 0, body: '' })
      })
    }
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', (error) => done({ status: 0, body: error.message }))
    req.end(r.body)
  })
}

/** Raw bytes on a connection of their own; the status of the first answer line, 0 without one. */
function sendRaw(server: SoakServer, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(server.port, server.host)
    const chunks: Buffer[] = []
    socket.setTimeout(40_000, () => socket.destroy())
    socket.on('data', (c) => chunks.push(c))
    socket.on('error', () => {})
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0)
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4, 4096) })
    })
    socket.end(bytes)
  })
}

/** The last values the service handed out, used by the requests' placeholders. */
class Harvest {
  readonly #values: Record<keyof typeof HARVEST, string[]> = {
    link: [],
    refresh: [],
    jwt: [],
    session: [],
    user: [],
  }
  #turn = 0

  fill(r: FuzzRequest): FuzzRequest {
    if (r.raw) return r
    const body = r.body?.toString('utf8')
    const needs = (s: string | undefined) => s?.includes('@@harvest-') === true
    if (!needs(r.path) && !needs(body) && !Object.values(r.headers).some(needs)) return r
    const fill = (s: string) =>
      s.replace(
        /@@harvest-(link|refresh|jwt|session|user)@@/g,
        (_m, kind: keyof typeof HARVEST) => {
          const values = this.#values[kind]
          return values[this.#turn++ % Math.max(1, values.length)] ?? 'nothing-harvested-yet'
        },
      )
    return {
      ...r,
      path: fill(r.path),
      headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, fill(v)])),
      body: body === undefined ? undefined : Buffer.from(fill(body), 'utf8'),
    }
  }

  take(r: FuzzRequest, answer: Answer): void {
    if (r.raw || (answer.status !== 200 && answer.status !== 202)) return
    const path = r.path.split('?')[0]
    if (path !== '/v1/links' && path !== '/v1/links/verify' && path !== '/v1/sessions/refresh')
      return
    let json: Record<string, unknown>
    try {
      json = JSON.parse(answer.body)
    } catch {
      return
    }
    const keep = (kind: keyof typeof HARVEST, value: unknown) => {
      if (typeof value !== 'string') return
      const values = this.#values[kind]
      values.push(value)
      if (values.length > 64) values.shift()
    }
    if (typeof json.link === 'string') keep('link', new URL(json.link).searchParams.get('token'))
    keep('user', json.user_id)
    const session = (json.session ?? json) as Record<string, unknown>
    keep('refresh', session.refresh_token)
    keep('jwt', session.jwt)
    keep('session', session.session_id)
  }
}

/** Real keys, users, tokens of every kind and a CSRF pair, from the running service. */
async function gather(server: SoakServer, agent: Agent): Promise<Material> {
  const api = { authorization: `Bearer ${server.keys.service}`, 'content-type': 'application/json' }
  const call = async (path: string, body: object) => {
    const answer = await send(server, agent, {
      method: 'POST',
      path,
      headers: api,
      body: Buffer.from(JSON.stringify(body)),
    })
    if (answer.status >= 300) throw new Error(`${path} answered ${answer.status}: ${answer.body}`)
    return JSON.parse(answer.body) as Record<string, unknown>
  }
  const emails = Array.from({ length: 8 }, (_, i) => `fuzz-${i}@soak.test`)
  const userIds: string[] = []
  const tokens: string[] = []
  for (const [i, email] of emails.entries()) {
    const options = [
      {},
      { one_time: false },
      { scope: 'files:read' },
      { bind_ip: '203.0.113.7' },
      { redirect_to: '/after' },
    ]
    for (const extra of options) {
      const issued = await call('/v1/links', { email, deliver: 'none', ...extra })
      tokens.push(new URL(String(issued.link)).searchParams.get('token') ?? '')
      if (extra === options[0]) userIds.push(String(issued.user_id))
    }
    if (i % 2 === 0) {
      const verified = await call('/v1/links/verify', { token: tokens.at(-4) })
      const session = verified.session as Record<string, string>
      tokens.push(session.refresh_token ?? '')
    }
  }
  // Near misses made with the service's own keys: the right MAC for another purpose, expired,
  // flags the context does not match, counters that moved on, a key id the ring does not know.
  const now = Math.floor(Date.now() / 1000)
  const mint = (
    ring: KeyRing,
    purpose: Purpose,
    flags: number,
    userId: string,
    expiresAt = now + 600,
    rev = 0,
    seq = 0,
  ) => ring.mint({ purpose, flags, userId, expiresAt, rev, seq })
  const ring = server.keyring
  const secret = Buffer.from(server.config.linkSecrets[0]?.secret ?? '', 'base64url')
  const otherKid = new KeyRing([{ kid: 9, secret }])
  for (const userId of userIds.slice(0, 4)) {
    for (const purpose of Object.values(Purpose)) tokens.push(mint(ring, purpose, 0, userId))
    tokens.push(mint(ring, Purpose.Login, Flag.OneTime, userId, now - 10))
    tokens.push(mint(ring, Purpose.Login, Flag.OneTime, userId, now + 10 * 365 * 86400))
    tokens.push(
      mint(ring, Purpose.Login, Flag.IpBound | Flag.BrowserBound | Flag.HasRedirect, userId),
    )
    tokens.push(mint(ring, Purpose.Login, Flag.HasScope | Flag.HasClient, userId))
    tokens.push(mint(ring, Purpose.Login, Flag.OneTime, userId, now + 600, 7, 0xffffffff))
    tokens.push(mint(otherKid, Purpose.Login, 0, userId))
    tokens.push(mint(ring, Purpose.Refresh, Flag.HasClient, userId))
  }
  tokens.push(mint(ring, Purpose.Login, 0, '00000000-0000-7000-8000-000000000000'))

  const csrf = await csrfCookie(server)
  if (!csrf) throw new Error('GET /login gave no CSRF cookie and form token')
  return {
    serviceKey: server.keys.service,
    adminKey: server.keys.admin,
    publicUrl: PUBLIC_URL,
    userIds,
    emails,
    tokens: tokens.filter(Boolean),
    csrf,
    webhookSecret: server.webhookSecret,
  }
}

/** A CSRF cookie and its form token, read from one answer to GET /login. */
function csrfCookie(server: SoakServer): Promise<{ cookie: string; token: string } | undefined> {
  return new Promise((resolve, reject) => {
    httpRequest(`${server.url}/login`, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const set = [res.headers['set-cookie'] ?? []]
          .flat()
          .find((c) => c.startsWith('__Host-latchkey-csrf='))
        const token = formFields(Buffer.concat(chunks).toString('utf8'), '/login')?.csrf
        resolve(set && token ? { cookie: set.split(';')[0] ?? '', token } : undefined)
      })
    })
      .on('error', reject)
      .end()
  })
}

/**
 * The request, each part cut to a readable length (with its full length said), and without the
 * run's credentials and the tokens it was handed (API keys, cookies, CSRF tokens, links, JWTs):
 * a failure is replayed from its seed, and what is printed may be pasted anywhere.
 */
function describe(r: FuzzRequest): string {
  const cut = (text: string, max: number) =>
    text.length > max
      ? `${JSON.stringify(redacted(text.slice(0, max)))}… (${text.length} characters)`
      : JSON.stringify(redacted(text))
  if (r.raw) return `raw ${cut(r.raw.toString('latin1'), 1500)}`
  const headers = Object.entries(r.headers).map(([k, v]) => `${k}: ${cut(v, 200)}`)
  const body = r.body ? ` body ${cut(r.body.toString('utf8'), 1000)}` : ''
  return `${r.method} ${cut(r.path, 1000)} headers {${headers.join(', ')}}${body}`
}

const SECRETS: [RegExp, string][] = [
  [/(Bearer\s+)\S+/gi, '$1[key]'],
  [/(__Host-latchkey-[a-z]+=)[^;,\s"]+/g, '$1[cookie]'],
  [/\beyJ[\w-]+\.[\w-]+\.[\w-]+/g, '[jwt]'],
  [/\b((?:token|csrf|code|refresh_token)=)[^&\s"]+/g, '$1[redacted]'],
  [/("(?:token|csrf|code|jwt|refresh_token)"\s*:\s*")[^"]*/g, '$1[redacted]'],
]

function redacted(text: string): string {
  return SECRETS.reduce((t, [pattern, label]) => t.replace(pattern, label), text)
}

function printFailure(n: number, r: FuzzRequest, answer: Answer, what: string): void {
  out()
  out(`${what} at request ${n} (batch seed ${SEED + Math.floor(n / BATCH)}, index ${n % BATCH}):`)
  out(`  ${describe(r)}`)
  out(`  → ${answer.status} ${redacted(answer.body.slice(0, 500))}`)
}

await runBench(main, 'FUZZ')
