import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { createClient, LatchkeyError } from '../../client/src/index.js'
import { createVerifier } from '../../client/src/verifier.js'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { generateSessionKey } from '../../src/sessions/jwt.js'
import { freePort } from '../helpers/process.js'
import { startService } from '../helpers/service.js'
import { tempDir } from '../helpers/temp.js'

/**
 * latchkey-client against a real `latchkey serve` on a socket: every call the typed client makes
 * is answered by the service, and the verifier checks the service's JWTs through its JWKS.
 */
const AUDIENCE = 'https://app.example.test'
const service = generateApiKey('backend', 'service')
const admin = generateApiKey('ops', 'admin')
const port = await freePort()
const url = `http://127.0.0.1:${port}`
const s = await startService(
  t,
  {
    DATA_DIR: tempDir(t, 'latchkey-client-'),
    PUBLIC_URL: url,
    SESSION_AUDIENCE: AUDIENCE,
    LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
    SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 'client-test' })]),
    API_KEYS: `${service.entry},${admin.entry}`,
    MAIL_TRANSPORT: 'log',
  },
  { port },
)
const client = createClient({ url, apiKey: service.key })
const ops = createClient({ url, apiKey: admin.key })

let counter = 0
/** A signed-in user, as a backend gets one: a link issued with deliver none, then verified. */
async function signIn() {
  const email = `client-${++counter}@example.com`
  const issued = await client.issueLink({ email, deliver: 'none' })
  const token = new URL(issued.link as string).searchParams.get('token') as string
  const verified = await client.verifyLink({ token })
  if (verified.session === null) throw new Error('a login link opens a session')
  return { email, token, userId: issued.user_id, session: verified.session }
}

async function failure(promise: Promise<unknown>): Promise<LatchkeyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof LatchkeyError)) throw new Error(`expected a LatchkeyError: ${error}`)
  return error
}

t.test('issue, verify, refresh, introspect, end: the service API through the client', async (t) => {
  const { token, userId, email, session } = await signIn()
  t.match(session, { jwt: String, refresh_token: String, session_id: String })

  const used = await failure(client.verifyLink({ token }))
  t.match(used, { code: 'token_used', status: 401 }, 'a used link is a typed error')
  t.equal(used.problem?.code, 'token_used', 'carrying the problem+json')

  const verifier = createVerifier({ url, audience: AUDIENCE })
  const claims = await verifier.verify(session.jwt)
  t.match(claims, { iss: url, aud: AUDIENCE, sub: userId, sid: session.session_id, email, rev: 0 })
  t.equal(claims.client_id, 'backend')

  const refreshed = await client.refresh(session.refresh_token)
  t.equal(refreshed.session_id, session.session_id)
  t.not(refreshed.refresh_token, session.refresh_token, 'rotated')
  t.equal((await verifier.verify(refreshed.jwt)).sid, session.session_id)

  t.match(await client.introspect(refreshed.jwt), { active: true, sub: userId })
  t.equal(await client.endSession({ session_id: session.session_id }), undefined, '204')
  t.match(await client.introspect(refreshed.jwt), { active: false, reason: 'session_ended' })
  const ended = await failure(client.refresh(refreshed.refresh_token))
  t.equal(ended.code, 'session_ended')

  // The signature is still good: without the feed, a local check cannot see the end.
  t.equal((await verifier.verify(refreshed.jwt)).sub, userId)
})

t.test('exchange reaches its route: a made-up code is token_invalid', async (t) => {
  const error = await failure(client.exchange({ code: 'A'.repeat(64) }))
  t.match(error, { status: 401 })
  t.ok(['token_invalid', 'code_invalid'].includes(error.code), error.code)
})

t.test('the admin calls', async (t) => {
  const { userId, email, session } = await signIn()
  t.match(await ops.admin.getUser(userId), { id: userId, email, status: 'active' })
  t.match((await ops.admin.listUsers({ email })).users, [{ id: userId }])
  const sessions = await ops.admin.listUserSessions(userId)
  t.match(sessions.sessions, [{ id: session.session_id }])

  t.match(await ops.admin.revokeUser(userId), { user_id: userId, rev: 1 })
  t.match(await client.introspect(session.jwt), { active: false })
  t.match(await ops.admin.disableUser(userId), { status: 'disabled' })
  t.match(await ops.admin.enableUser(userId), { status: 'active' })

  const second = await client.verifyLink({
    token: new URL(
      (await client.issueLink({ user_id: userId, deliver: 'none' })).link as string,
    ).searchParams.get('token') as string,
  })
  t.equal(await ops.admin.endSession(second.session?.session_id as string), undefined, '204')
  t.match(await client.introspect(second.session?.jwt as string), { active: false })

  t.match(await ops.admin.listOutbox({ limit: 5 }), { messages: Array, counts: Object })
  t.equal(await ops.admin.deleteUser(userId), undefined, '204')
  t.match(await failure(ops.admin.getUser(userId)), { code: 'not_found', status: 404 })
})

t.test('errors: the wrong role, a bad request, nobody listening', async (t) => {
  t.match(await failure(client.admin.getUser(crypto.randomUUID())), {
    code: 'forbidden',
    status: 403,
  })
  t.match(await failure(client.issueLink({ email: 'not an address', deliver: 'none' })), {
    code: 'invalid_request',
    status: 400,
  })
  const nowhere = createClient({ url: 'http://127.0.0.1:1', apiKey: service.key })
  t.match(await failure(nowhere.introspect('x')), { code: 'unexpected_response', status: 503 })
})

// The feed is the newest route; until the service has it, this test says so as a skip.
const hasFeed = (await s.request('/v1/revocations', { apiKey: service.key })).status !== 404
const noFeed = hasFeed ? false : 'this service has no revocation feed (GET /v1/revocations) yet'

t.test('followRevocations against the real service', { skip: noFeed }, async (t) => {
  const errors: unknown[] = []
  const verifier = createVerifier({
    url,
    audience: AUDIENCE,
    apiKey: service.key,
    followRevocations: true,
    onError: (e) => errors.push(e),
  })
  t.teardown(() => verifier.close())
  const a = await signIn()
  const b = await signIn()
  await verifier.verify(a.session.jwt)
  await verifier.verify(b.session.jwt)

  await ops.admin.revokeUser(a.userId)
  await client.endSession({ session_id: b.session.session_id })
  await verifier.sync()
  t.match(await failure(verifier.verify(a.session.jwt)), { code: 'token_revoked' })
  t.match(await failure(verifier.verify(b.session.jwt)), { code: 'session_ended' })
  t.same(errors, [], 'every poll succeeded')
})

/**
 * The README's backend in ten lines, as written: only its addresses, key and port are this test's
 * (each replaced exactly once, so an edit that drops one fails here), and its imports resolve to
 * this repository's sources.
 */
t.test("the README's latchkey-client backend works as written", async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const part = readme.slice(
    readme.indexOf('### latchkey-client, for Node backends'),
    readme.indexOf('## Sessions'),
  )
  let code = /```js\n([\s\S]*?)```/.exec(part)?.[1]
  if (code === undefined) throw new Error('the README example is missing')
  const appPort = await freePort()
  for (const [from, to] of [
    ["'https://login.example.com'", `'${url}'`],
    ["'https://app.example.com'", `'${AUDIENCE}'`],
    ['process.env.LATCHKEY_API_KEY', `'${service.key}'`],
    ['{ port: 8080 }', `{ port: ${appPort}, host: '127.0.0.1' }`],
  ] as const) {
    if (code.split(from).length !== 2) throw new Error(`${from} is not in the example once`)
    code = code.replace(from, to)
  }
  const modules: Record<string, string> = {
    fastify: import.meta.resolve('fastify'),
    'latchkey-client': new URL('../../client/src/index.ts', import.meta.url).href,
    'latchkey-client/fastify': new URL('../../client/src/fastify.ts', import.meta.url).href,
  }
  code = code.replace(/ from '([\w/-]+)'/g, (_, name: string) => {
    const resolved = modules[name]
    if (resolved === undefined) throw new Error(`the example imports ${name}`)
    return ` from '${resolved}'`
  })
  const file = join(tempDir(t, 'latchkey-client-readme-'), 'backend.mjs')
  writeFileSync(file, `${code}\nexport { app, verifier }\n`)
  const backend = (await import(pathToFileURL(file).href)) as {
    app: { close(): Promise<unknown> }
    verifier: { close(): void }
  }
  t.teardown(async () => {
    await backend.app.close()
    backend.verifier.close()
  })

  const me = `http://127.0.0.1:${appPort}/me`
  const { userId, session } = await signIn()
  const res = await fetch(me, { headers: { authorization: `Bearer ${session.jwt}` } })
  t.equal(res.status, 200)
  t.same(await res.json(), { user: userId, session: session.session_id })
  const anonymous = await fetch(me)
  t.equal(anonymous.status, 401)
  t.match(await anonymous.json(), { code: 'unauthorized' })
})
