import { randomBytes } from 'node:crypto'
import { connect, createServer, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { generateSessionKey } from '../../src/sessions/jwt.js'
import { Flag, Purpose } from '../../src/tokens/codec.js'
import { KeyRing } from '../../src/tokens/keyring.js'
import { until } from '../helpers/poll.js'
import { admin, createDatabase, POSTGRES_SERVER } from '../helpers/postgres.js'
import { freePort } from '../helpers/process.js'
import { type Service, startService } from '../helpers/service.js'
import { tempDir } from '../helpers/temp.js'

/**
 * PostgreSQL going away under a running service, against real processes: readiness and the API
 * answer 503 problem+json (never 500, never a wrong token verdict), the process stays up, and it
 * recovers by itself when the database is back.
 */
const service = generateApiKey('backend', 'service')
const dataDir = tempDir(t, 'latchkey-faults-')

const linkSecret = randomBytes(32)
const baseEnv = {
  DATA_DIR: dataDir,
  PUBLIC_URL: 'https://login.example.test',
  LINK_SECRETS: `1:${linkSecret.toString('base64url')}`,
  SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 'faults' })]),
  API_KEYS: service.entry,
  MAIL_TRANSPORT: 'log',
}

/** A well-formed, correctly signed link for a user the database would have to look up. */
const validToken = () =>
  new KeyRing([{ kid: 1, secret: linkSecret }]).mint({
    purpose: Purpose.Login,
    flags: Flag.OneTime,
    userId: '01900000-0000-7000-8000-000000000000',
    expiresAt: Math.floor(Date.now() / 1000) + 600,
    rev: 0,
    seq: 0,
  })

const json = async (res: Response) => (await res.json()) as Record<string, unknown>

const issue = (s: Service, email: string) =>
  s.request('/v1/links', { body: { email, deliver: 'none' }, apiKey: service.key })

/** Every way in that needs the database answers 503 problem+json with code unavailable. */
async function assertUnavailable(t: Test, s: Service, token: string) {
  const answers = {
    readyz: await s.request('/readyz'),
    issue: await issue(s, 'down@example.com'),
    verify: await s.request('/v1/links/verify', { body: { token }, apiKey: service.key }),
  }
  for (const [name, res] of Object.entries(answers)) {
    t.equal(res.status, 503, `${name}: 503`)
    t.match(res.headers.get('content-type'), /^application\/problem\+json/, `${name}: problem`)
    t.match(await json(res), { status: 503, code: 'unavailable' }, `${name}: code unavailable`)
    t.equal(res.headers.get('retry-after'), '5', `${name}: Retry-After`)
  }
  t.equal((await s.request('/healthz')).status, 200, 'the process itself is up')
  t.ok(s.alive(), 'no crash')
}

/** A TCP relay to the real server, started later on a port where nothing listened before. */
async function relay(port: number): Promise<{ close(): Promise<void> }> {
  const target = new URL(POSTGRES_SERVER)
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
      s.on('close', () => sockets.delete(s))
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()))
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
}

t.test(
  'PostgreSQL unreachable at start: 503 until it answers, then ready on its own',
  async (t) => {
    const db = await createDatabase('latchkey_unreachable')
    t.teardown(() => db.drop())
    const port = await freePort()
    const url = new URL(db.url)
    url.port = String(port)
    const s = await startService(t, { ...baseEnv, DATABASE_URL: url.toString() })

    await assertUnavailable(t, s, validToken())

    const server = await relay(port)
    t.teardown(() => server.close())
    await until(async () => (await s.request('/readyz')).status === 200, 'readiness', 30)
    const issued = await issue(s, 'back@example.com')
    t.equal(issued.status, 202, 'links are issued again')
    const { link } = (await json(issued)) as { link: string }
    const token = new URL(link).searchParams.get('token') as string
    const verified = await s.request('/v1/links/verify', { body: { token }, apiKey: service.key })
    t.equal(verified.status, 200, 'and verify')
    t.notMatch(s.output(), token, 'the token is not in the logs')
  },
)

t.test('the database dropped under a running service: 503, then back when it is', async (t) => {
  const db = await createDatabase('latchkey_dropped')
  t.teardown(() => db.drop())
  const s = await startService(t, { ...baseEnv, DATABASE_URL: db.url })
  const before = await issue(s, 'early@example.com')
  t.equal(before.status, 202)
  const { link } = (await json(before)) as { link: string }
  const token = new URL(link).searchParams.get('token') as string

  await db.drop()
  // The token is fine; the database is not. The answer says so, rather than "invalid" or "used".
  await assertUnavailable(t, s, token)

  await admin(`CREATE DATABASE ${db.name}`)
  await until(async () => (await s.request('/readyz')).status === 200, 'readiness', 30)
  t.equal((await issue(s, 'again@example.com')).status, 202, 'the new, empty database is used')
  t.ok(s.alive())
})
