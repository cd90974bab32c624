/**
 * The server side of the bench scripts: `node bench/servers.mjs <role>` runs one server, alone in
 * its process, forked by bench/children.ts. The load generator never shares an event loop (or a
 * core's worth of CPU) with what it measures, and each server's CPU time and memory are its own.
 *
 * Plain JavaScript run by plain node, and latchkey from its build (dist/, which the bench, soak
 * and fuzz scripts bring up to date first): a server is measured as it runs in production, without
 * a TypeScript loader's memory or its source maps, which make every captured stack more expensive.
 *
 * Roles, each listening on 127.0.0.1, port 0:
 * - latchkey: the service, built by buildApp from the configuration the parent made
 *   (BENCH_LATCHKEY_ENV);
 * - soak: the same service as `npm run soak` and `npm run fuzz` drive it, with around it (here,
 *   never in the service) a count of the requests it saw, its own measures every BENCH_SAMPLE_MS
 *   (resident set size, V8 heap, and the event-loop delay since the last sample:
 *   perf_hooks.monitorEventLoopDelay, reset after each sample), and BENCH_FAULT, a failure put in
 *   on purpose so the tests can show that one is seen: `5xx:N` breaks every call to the store from
 *   the Nth request on (an unexpected error: the service answers 500), `crash:N` ends the process
 *   at its Nth request. Unset in every real run;
 * - signing: the signing floor, a bare Fastify route POST /sign that only signs the same session
 *   JWT with jose (same key, same algorithm, same header, same claims; BENCH_SIGNING): the floor
 *   the targets are stated against. Beside it, POST /sign-node signs the same JWT as latchkey
 *   does, with node:crypto's synchronous sign through latchkey's own SessionKeys (dist/), which
 *   costs less than jose's path: the floor a service signing that way is measured against;
 * - constant: the constant floor, a bare Fastify route POST /constant that parses the same body
 *   and answers a constant JSON: the cost of Fastify itself, and its memory.
 * Each role imports only what it uses, so the constant floor's peak RSS is that of a bare Fastify.
 *
 * IPC (see ServerMessage in bench/children.ts): sends {type: 'ready', host, port}; answers 'cpu'
 * with the CPU time this process has used (user + system, µs); the soak role sends {type:
 * 'sample', …} every BENCH_SAMPLE_MS; on 'stop' closes the server and sends {type: 'stopped',
 * rssBytes (before closing), maxRssKiB, requests (the soak role)} before exiting.
 */
import { randomUUID } from 'node:crypto'

const HOST = '127.0.0.1'
/** The delay monitor's timer interval, ms: what it measures is how late that timer fires. */
const RESOLUTION_MS = 10

/** latchkey's configuration, as the parent made it (bench/latchkey.ts, bench/soak-harness.ts). */
async function latchkeyConfig() {
  const { loadConfig } = await import('../dist/config/index.js')
  return loadConfig(JSON.parse(process.env.BENCH_LATCHKEY_ENV ?? '{}'))
}

const builders = {
  async latchkey() {
    const { buildApp } = await import('../dist/app.js')
    return { app: await buildApp(await latchkeyConfig()) }
  },

  async soak() {
    const { buildApp, openStore } = await import('../dist/app.js')
    const config = await latchkeyConfig()
    const fault = parseFault(process.env.BENCH_FAULT)
    let requests = 0
    const broken = () => fault !== undefined && requests >= fault.from
    // The service is given the store (and so does not close it): a broken one when asked.
    const store = fault?.kind === '5xx' ? faulty(await openStore(config), broken) : undefined
    const app = await buildApp(config, store ? { store } : {})
    app.server.on('request', () => {
      requests++
      if (fault?.kind === 'crash' && broken()) process.exit(70)
    })
    const sampler = await sampleEvery(Number(process.env.BENCH_SAMPLE_MS ?? 5000))
    return {
      app,
      requests: () => requests,
      async close() {
        sampler.stop()
        await app.close()
        await store?.close()
      },
    }
  },

  // Signs exactly what latchkey's SessionKeys.sign does, with the same key imported once at
  // start-up, and does nothing else: no auth hook, no schema, no lookup.
  async signing() {
    const { default: Fastify } = await import('fastify')
    const { importJWK, SignJWT } = await import('jose')
    // SigningSettings (bench/latchkey.ts): the session key's JWK, issuer, audience, ttl.
    const settings = JSON.parse(process.env.BENCH_SIGNING ?? '{}')
    const { jwk } = settings
    const alg = jwk.kty === 'EC' ? 'ES256' : 'EdDSA'
    const key = await importJWK(jwk, alg)
    const subject = {
      sub: randomUUID(),
      client_id: 'bench',
      sid: randomUUID(),
      email: 'user0@bench.test',
      rev: 0,
    }
    const app = Fastify()
    app.post('/sign', async () => {
      const iat = Math.floor(Date.now() / 1000)
      const exp = iat + settings.ttl
      const jwt = await new SignJWT({
        client_id: subject.client_id,
        sid: subject.sid,
        email: subject.email,
        rev: subject.rev,
      })
        .setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt' })
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setSubject(subject.sub)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .setJti(randomUUID())
        .sign(key)
      return { jwt, expires_at: exp }
    })
    const { SessionKeys } = await import('../dist/sessions/jwt.js')
    const keys = await SessionKeys.load([jwk], {
      issuer: settings.issuer,
      audience: settings.audience,
      ttlSeconds: settings.ttl,
    })
    app.post('/sign-node', async () => {
      const { jwt, expiresAt } = await keys.sign(subject, Date.now())
      return { jwt, expires_at: expiresAt }
    })
    return { app }
  },

  // Parses the body like /sign (and verify) does, then answers the same bytes every time.
  async constant() {
    const { default: Fastify } = await import('fastify')
    const app = Fastify()
    app.post('/constant', async () => ({ ok: true }))
    return { app }
  },
}

/**
 * Sends what this process measures of itself every `ms` over IPC (Sample in bench/children.ts),
 * until stopped.
 */
async function sampleEvery(ms) {
  const { monitorEventLoopDelay } = await import('node:perf_hooks')
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  loop.enable()
  const delay = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS)
  const timer = setInterval(() => {
    const memory = process.memoryUsage()
    process.send?.({
      type: 'sample',
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      loop: {
        p50: delay(loop.percentile(50)),
        p99: delay(loop.percentile(99)),
        mean: delay(loop.mean),
        max: delay(loop.max),
      },
    })
    loop.reset()
  }, ms)
  return {
    stop() {
      clearInterval(timer)
      loop.disable()
    },
  }
}

function parseFault(raw) {
  const m = /^(5xx|crash):(\d+)$/.exec(raw ?? '')
  if (!m) return undefined
  return { kind: m[1], from: Math.max(1, Number(m[2])) }
}

/** The store, its every method failing with an error the service did not expect while `broken()`. */
function faulty(store, broken) {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function' || name === 'close' || name === 'migrate') return value
      return (...args) =>
        broken()
          ? Promise.reject(new Error('a fault the soak self-check put in'))
          : value.apply(target, args)
    },
  })
}

async function main() {
  const send = process.send?.bind(process)
  if (!send) throw new Error('bench/servers.mjs runs under a bench script (it needs IPC)')
  const role = process.argv[2] ?? ''
  if (!Object.hasOwn(builders, role)) throw new Error(`unknown server role: ${role}`)
  const server = await builders[role]()
  const { app } = server
  await app.listen({ host: HOST, port: 0 })

  let closing
  const close = () => {
    closing ??= server.close ? server.close() : app.close()
    return closing
  }
  process.on('message', (message) => {
    if (message?.type === 'cpu') {
      const { user, system } = process.cpuUsage()
      send({ type: 'cpu', micros: user + system })
      return
    }
    if (message?.type !== 'stop') return
    const rssBytes = process.memoryUsage().rss
    void close().then(() => {
      const stopped = {
        type: 'stopped',
        rssBytes,
        maxRssKiB: process.resourceUsage().maxRSS,
        requests: server.requests?.(),
      }
      send(stopped, () => process.disconnect())
    })
  })
  // The parent died or let go without asking: do not linger as an orphan holding the port.
  process.on('disconnect', () => void close().then(() => process.exit(0)))
  const { address, port } = app.server.address()
  send({ type: 'ready', host: address, port })
}

main().catch((error) => {
  process.stderr.write(`bench server failed: ${error instanceof Error ? error.stack : error}\n`)
  process.exit(1)
})
