import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createClient, createVerifier, LatchkeyError } from '../../client/src/index.js'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { generateSessionKey } from '../../src/sessions/jwt.js'
import { until } from '../helpers/poll.js'
import { createDatabase } from '../helpers/postgres.js'
import { freePort } from '../helpers/process.js'
import { startService } from '../helpers/service.js'
import { tempDir } from '../helpers/temp.js'

/**
 * A backend following the feed of one instance (A) while the revoke and the logout happen on
 * another (B), both on one PostgreSQL: the verifier's own poller, at its own interval, learns of
 * them within 10 s. A's address is everyone's PUBLIC_URL, as a load balancer's would be.
 */
const AUDIENCE = 'https://app.example.test'
const service = generateApiKey('backend', 'service')
const admin = generateApiKey('ops', 'admin')
const db = await createDatabase('latchkey_client_feed')
t.teardown(() => db.drop())
const portA = await freePort()
const url = `http://127.0.0.1:${portA}`
const env = {
  DATABASE_URL: db.url,
  DATA_DIR: tempDir(t, 'latchkey-client-feed-'),
  PUBLIC_URL: url,
  SESSION_AUDIENCE: AUDIENCE,
  LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
  SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 'feed' })]),
  API_KEYS: `${service.entry},${admin.entry}`,
  MAIL_TRANSPORT: 'log',
}
const a = await startService(t, env, { port: portA })
const b = await startService(t, env)

// The feed is the newest route; until the service has it, this test says so as a skip.
const hasFeed = (await a.request('/v1/revocations', { apiKey: service.key })).status !== 404
const noFeed = hasFeed ? false : 'this service has no revocation feed (GET /v1/revocations) yet'

t.test(
  'a revoke and a logout on B reach a verifier following A within 10 s',
  { skip: noFeed },
  async (t) => {
    const onA = createClient({ url, apiKey: service.key })
    const onB = createClient({ url: b.base, apiKey: service.key })
    const opsOnB = createClient({ url: b.base, apiKey: admin.key })
    const errors: unknown[] = []
    const verifier = createVerifier({
      url,
      audience: AUDIENCE,
      apiKey: service.key,
      followRevocations: true,
      interval: 1000,
      onError: (e) => errors.push(e),
    })
    t.teardown(() => verifier.close())

    const signIn = async (email: string) => {
      const { link, user_id } = await onA.issueLink({ email, deliver: 'none' })
      const token = new URL(link as string).searchParams.get('token') as string
      const { session } = await onA.verifyLink({ token })
      if (session === null) throw new Error('a login link opens a session')
      return { userId: user_id, session }
    }
    const revoked = await signIn('revoked@example.com')
    const loggedOut = await signIn('logged-out@example.com')
    const codeOf = (jwt: string) =>
      verifier.verify(jwt).then(
        () => 'valid',
        (e: unknown) => (e instanceof LatchkeyError ? e.code : String(e)),
      )
    t.equal(await codeOf(revoked.session.jwt), 'valid')
    t.equal(await codeOf(loggedOut.session.jwt), 'valid')

    const started = Date.now()
    await opsOnB.admin.revokeUser(revoked.userId)
    await onB.endSession({ session_id: loggedOut.session.session_id })
    await until(
      async () => (await codeOf(revoked.session.jwt)) === 'token_revoked',
      'the revoke',
      10,
    )
    await until(
      async () => (await codeOf(loggedOut.session.jwt)) === 'session_ended',
      'the logout',
      10,
    )
    t.ok(Date.now() - started < 10_000, `learned in ${Date.now() - started} ms`)
    t.same(errors, [], 'every poll succeeded')
  },
)
