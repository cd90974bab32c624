/**
 * The server side of the bench scripts: `node bench/servers.mjs <role>` runs one server, alone in
 * its process, forked by bench/children.ts. The load generator never shares an event loop (or a
 * core's worth of CPU) with what it measures, and each server's CPU time and peak RSS are its own.
 *
 * Plain JavaScript run by plain node, and latchkey from its build (dist/, which the bench scripts
 * bring up to date first): a server is measured as it runs in production, without a TypeScript
 * loader's memory or its source maps, which make every captured stack more expensive.
 *
 * Roles, each listening on 127.0.0.1, port 0:
 * - latchkey: the service, built by buildApp from the configuration the parent made
 *   (BENCH_LATCHKEY_ENV);
 * - signing: the signing floor, a bare Fastify route POST /sign that only signs the same session
 *   JWT with jose (same key, same algorithm, same header, same claims; BENCH_SIGNING): the floor
 *   the targets are stated against. Beside it, POST /sign-node signs the same JWT as latchkey
 *   does, with node:crypto's synchronous sign through latchkey's own SessionKeys (dist/), which
 *   costs less than jose's path: the floor a service signing that way is measured against;
 * - constant: the constant floor, a bare Fastify route POST /constant that parses the same body
 *   and answers a constant JSON: the cost of Fastify itself, and its memory.
 * Each role imports only what it uses, so the constant floor's peak RSS is that of a bare Fastify.
 *
 * IPC (see ServerMessage in bench/children.ts): sends {type: 'ready', port}; answers 'cpu' with
 * the CPU time this process has used (user + system, µs); on 'stop' closes the server and sends
 * {type: 'stopped', maxRssKiB} before exiting.
 */
import { randomUUID } from 'node:crypto'

const HOST = '127.0.0.1'

const builders = {
  async latchkey() {
    const { buildApp } = await import('../dist/app.js')
    const { loadConfig } = await import('../dist/config/index.js')
    return buildApp(loadConfig(JSON.parse(process.env.BENCH_LATCHKEY_ENV ?? '{}')))
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
    return app
  },

  // Parses the body like /sign (and verify) does, then answers the same bytes every time.
  async constant() {
    const { default: Fastify } = await import('fastify')
    const app = Fastify()
    app.post('/constant', async () => ({ ok: true }))
    return app
  },
}

async function main() {
  const send = process.send?.bind(process)
  if (!send) throw new Error('bench/servers.mjs runs under a bench script (it needs IPC)')
  const role = process.argv[2] ?? ''
  if (!Object.hasOwn(builders, role)) throw new Error(`unknown server role: ${role}`)
  const app = await builders[role]()
  await app.listen({ host: HOST, port: 0 })

  let closing
  const close = () => {
    closing ??= app.close()
    return closing
  }
  process.on('message', (message) => {
    if (message?.type === 'cpu') {
      const { user, system } = process.cpuUsage()
      send({ type: 'cpu', micros: user + system })
      return
    }
    if (message?.type !== 'stop') return
    void close().then(() => {
      const stopped = { type: 'stopped', maxRssKiB: process.resourceUsage().maxRSS }
      send(stopped, () => process.disconnect())
    })
  })
  // The parent died or let go without asking: do not linger as an orphan holding the port.
  process.on('disconnect', () => void close().then(() => process.exit(0)))
  send({ type: 'ready', port: app.server.address().port })
}

main().catch((error) => {
  process.stderr.write(`bench server failed: ${error instanceof Error ? error.stack : error}\n`)
  process.exit(1)
})
