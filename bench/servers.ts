/**
 * The server side of `npm run bench`, forked by bench/verify.ts so the load generator never
 * shares an event loop (or a core's worth of CPU) with the servers it measures.
 *
 * Two servers on 127.0.0.1, port 0:
 * - latchkey itself, built by buildApp from the configuration the parent made (real SQLite file);
 * - the baseline: bare Fastify routes on one server. POST /sign only signs the same session JWT
 *   with jose (same key, same algorithm, same header, same claims), the cost no sign-in service
 *   can avoid; POST /constant parses the same body and answers a constant JSON, the cost of
 *   Fastify itself, which rejecting a forged token is measured against.
 *
 * IPC: sends {type: 'ready', latchkey, baseline} (ports); answers 'cpu' with the CPU time this
 * process has used (user + system, µs); on 'stop' closes both servers and sends
 * {type: 'stopped', maxRssKiB} before exiting.
 */
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { importJWK, type JWK, SignJWT } from 'jose'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/index.js'

export type ServerMessage =
  | { type: 'ready'; latchkey: number; baseline: number }
  | { type: 'cpu'; micros: number }
  | { type: 'stopped'; maxRssKiB: number }

const HOST = '127.0.0.1'

async function main(): Promise<void> {
  const send = process.send?.bind(process)
  if (!send) throw new Error('bench/servers.ts runs under bench/verify.ts (it needs IPC)')
  const config = loadConfig(JSON.parse(process.env.BENCH_LATCHKEY_ENV ?? '{}'))

  const latchkey = await buildApp(config)
  await latchkey.listen({ host: HOST, port: 0 })

  // The baseline signs exactly what latchkey's SessionKeys.sign does, with the same key imported
  // once at start-up, and does nothing else: no auth hook, no schema, no lookup.
  const jwk = config.sessionKeys[0] as JWK & { kid: string }
  const alg = jwk.kty === 'EC' ? 'ES256' : 'EdDSA'
  const key = await importJWK(jwk, alg)
  const subject = {
    sub: randomUUID(),
    client_id: 'bench',
    sid: randomUUID(),
    email: 'user0@bench.test',
    rev: 0,
  }
  const baseline = Fastify()
  baseline.post('/sign', async () => {
    const iat = Math.floor(Date.now() / 1000)
    const exp = iat + config.sessionTtl
    const jwt = await new SignJWT({
      client_id: subject.client_id,
      sid: subject.sid,
      email: subject.email,
      rev: subject.rev,
    })
      .setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt' })
      .setIssuer(config.publicUrl)
      .setAudience(config.sessionAudience)
      .setSubject(subject.sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key)
    return { jwt, expires_at: exp }
  })
  // Parses the body like /sign (and verify) does, then answers the same bytes every time.
  baseline.post('/constant', async () => ({ ok: true }))
  await baseline.listen({ host: HOST, port: 0 })

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= Promise.all([latchkey.close(), baseline.close()]).then(() => undefined)
    return closing
  }
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'cpu') {
      const { user, system } = process.cpuUsage()
      const cpu: ServerMessage = { type: 'cpu', micros: user + system }
      send(cpu)
      return
    }
    if (message?.type !== 'stop') return
    void close().then(() => {
      const stopped: ServerMessage = { type: 'stopped', maxRssKiB: process.resourceUsage().maxRSS }
      send(stopped, () => process.disconnect())
    })
  })
  // The parent died or let go without asking: do not linger as an orphan holding the ports.
  process.on('disconnect', () => void close().then(() => process.exit(0)))

  const ready: ServerMessage = {
    type: 'ready',
    latchkey: portOf(latchkey.server.address()),
    baseline: portOf(baseline.server.address()),
  }
  send(ready)
}

function portOf(address: AddressInfo | string | null): number {
  if (address === null || typeof address === 'string') throw new Error('not a TCP server')
  return address.port
}

main().catch((error: unknown) => {
  process.stderr.write(`bench servers failed: ${error instanceof Error ? error.stack : error}\n`)
  process.exit(1)
})
