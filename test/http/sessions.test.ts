import type { LightMyRequestResponse } from 'fastify'
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose'
import type { Test } from 'tap'
import t from 'tap'
import { asAdmin, asService, build, PUBLIC_URL } from '../helpers/app.js'
import { apiLink, assertProblem, postVerify } from '../helpers/http.js'

const harness = await build(t)
const { app, clock, config } = harness

interface Session {
  jwt: string
  expires_at: number
  refresh_token: string
  refresh_expires_at: number
  session_id: string
}

let counter = 0

const post = (url: string, payload: Record<string, unknown>, headers = asService) =>
  app.inject({ method: 'POST', url, headers, payload })

/** A new user signed in: their id, email and session. */
async function signIn(): Promise<{ userId: string; email: string; session: Session }> {
  const email = `session-${++counter}@example.com`
  const { token, userId } = await apiLink(app, { email })
  const res = await postVerify(app, { token })
  if (res.statusCode !== 200) throw new Error(`verify failed: ${res.statusCode} ${res.body}`)
  return { userId, email, session: res.json().session }
}

const postRefresh = (refreshToken: string) =>
  post('/v1/sessions/refresh', { refresh_token: refreshToken })
const postIntrospect = (jwt: string) => post('/v1/sessions/introspect', { jwt })

function assertInactive(t: Test, res: LightMyRequestResponse, reason?: string): void {
  t.equal(res.statusCode, 200, 'introspection answers 200')
  const body = res.json()
  t.equal(body.active, false, 'inactive')
  t.notOk('sub' in body, 'no sub for an inactive token')
  if (reason !== undefined) t.equal(body.reason, reason, `reason ${reason}`)
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

t.test('refresh returns a new jwt and a new refresh token', async (t) => {
  const { userId, session } = await signIn()
  clock.advance(60)
  const res = await postRefresh(session.refresh_token)
  t.equal(res.statusCode, 200)
  const next: Session = res.json()
  t.not(next.jwt, session.jwt, 'a new jwt')
  t.not(next.refresh_token, session.refresh_token, 'a new refresh token')
  const now = Math.floor(clock.ms / 1000)
  t.equal(next.expires_at, now + config.sessionTtl)
  t.equal(next.refresh_expires_at, now + config.refreshTtl)
  t.equal(decodeJwt(next.jwt).sub, userId)

  const jwks = createLocalJWKSet(
    (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json(),
  )
  const { payload } = await jwtVerify(next.jwt, jwks, {
    issuer: PUBLIC_URL,
    audience: PUBLIC_URL,
    currentDate: new Date(clock.ms),
  })
  t.equal(payload.sub, userId, 'the refreshed jwt verifies against the JWKS')

  const newer = await postRefresh(next.refresh_token)
  t.equal(newer.statusCode, 200, 'the new refresh token works in turn')
})

t.test('client_id names the API key that opened the session; only it may refresh', async (t) => {
  const { session } = await signIn()
  t.equal(decodeJwt(session.jwt).client_id, 'svc', 'verified by the service key')
  t.equal(decodeJwt(session.jwt).sid, session.session_id, 'sid names the session')

  const { token } = await apiLink(app, { email: `client-${++counter}@example.com` })
  const byAdmin = (await postVerify(app, { token }, asAdmin)).json().session as Session
  t.equal(decodeJwt(byAdmin.jwt).client_id, 'ops', 'verified by the admin key')

  const other = await post(
    '/v1/sessions/refresh',
    { refresh_token: session.refresh_token },
    asAdmin,
  )
  assertProblem(t, other, 401, 'token_invalid')
  const refreshed = await postRefresh(session.refresh_token)
  t.equal(refreshed.statusCode, 200, "another key's attempt spent nothing")
  t.equal(decodeJwt(refreshed.json().jwt).client_id, 'svc', 'still the opening key')
  t.equal((await postIntrospect(refreshed.json().jwt)).json().client_id, 'svc', 'introspection too')
})

t.test('purpose separation', async (t) => {
  t.test('a login link token is not a refresh token', async (t) => {
    const { token } = await apiLink(app, { email: `purpose-${++counter}@example.com` })
    assertProblem(t, await postRefresh(token), 401, 'token_invalid')
    const res = await postVerify(app, { token })
    t.equal(res.statusCode, 200, 'and the attempt did not spend the link')
  })

  t.test('a refresh token is not a link', async (t) => {
    const { session } = await signIn()
    assertProblem(t, await postVerify(app, { token: session.refresh_token }), 401, 'token_invalid')
  })

  t.test('garbage refresh tokens → token_invalid', async (t) => {
    for (const bad of ['x', 'A'.repeat(64), 'not a token at all']) {
      assertProblem(t, await postRefresh(bad), 401, 'token_invalid')
    }
  })
})

t.test('introspect', async (t) => {
  t.test('an active session: sub, sid, client_id, exp and iat', async (t) => {
    const { userId, session } = await signIn()
    const res = await postIntrospect(session.jwt)
    t.equal(res.statusCode, 200)
    t.strictSame(res.json(), {
      active: true,
      sub: userId,
      sid: session.session_id,
      client_id: 'svc',
      exp: session.expires_at,
      iat: session.expires_at - config.sessionTtl,
    })
  })

  t.test('garbage → active false, 200', async (t) => {
    for (const bad of ['garbage', 'a.b.c', 'eyJhbGciOiJFZERTQSJ9.e30.AAAA', ' '.repeat(3)]) {
      assertInactive(t, await postIntrospect(bad), 'token_invalid')
    }
  })

  t.test('a link token → active false', async (t) => {
    const { token } = await apiLink(app, { email: `introspect-link-${++counter}@example.com` })
    assertInactive(t, await postIntrospect(token), 'token_invalid')
  })

  t.test('an alg none JWT with otherwise valid claims → active false', async (t) => {
    const { userId, email, session } = await signIn()
    const real = decodeJwt(session.jwt)
    const header = { alg: 'none', typ: 'at+jwt', kid: 'test-key' }
    const claims = { ...real, sub: userId, email }
    const unsigned = `${b64(header)}.${b64(claims)}`
    assertInactive(t, await postIntrospect(`${unsigned}.`), 'token_invalid')
    // With a signature segment borrowed from a real token, so only the alg can be blamed.
    const signature = session.jwt.split('.')[2]
    assertInactive(t, await postIntrospect(`${unsigned}.${signature}`), 'token_invalid')
  })

  t.test('a real JWT with a tampered payload → active false', async (t) => {
    const { session } = await signIn()
    const [header, payload, signature] = session.jwt.split('.')
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString())
    const forged = `${header}.${b64({ ...claims, rev: claims.rev + 1 })}.${signature}`
    assertInactive(t, await postIntrospect(forged), 'token_invalid')
  })
})

t.test('revoke ends links, refresh tokens and sessions; a new link works', async (t) => {
  const { userId, email, session } = await signIn()
  const outstanding = await apiLink(app, { email })
  t.equal((await postIntrospect(session.jwt)).json().active, true, 'active before the revoke')

  const revoked = await post(`/v1/admin/users/${userId}/revoke`, {}, asAdmin)
  t.equal(revoked.statusCode, 200)
  t.same(revoked.json(), { user_id: userId, rev: 1 })

  assertProblem(t, await postVerify(app, { token: outstanding.token }), 401, 'token_revoked')
  assertProblem(t, await postRefresh(session.refresh_token), 401, 'token_revoked')
  assertInactive(t, await postIntrospect(session.jwt), 'token_revoked')

  const fresh = await apiLink(app, { email })
  const res = await postVerify(app, { token: fresh.token })
  t.equal(res.statusCode, 200, 'a link issued after the revoke works')
  const newSession: Session = res.json().session
  t.equal(decodeJwt(newSession.jwt).rev, 1, 'the new session carries the new rev')
  t.equal((await postIntrospect(newSession.jwt)).json().active, true, 'and is active')
  t.equal((await postRefresh(newSession.refresh_token)).statusCode, 200, 'and refreshes')
})

t.test('revoke of an unknown user → 404', async (t) => {
  const res = await post('/v1/admin/users/00000000-0000-7000-8000-000000000000/revoke', {}, asAdmin)
  assertProblem(t, res, 404, 'not_found')
})

t.test('JWT expiry through the clock → introspect active false, token_expired', async (t) => {
  const { session } = await signIn()
  clock.advance(config.sessionTtl - 1)
  t.equal((await postIntrospect(session.jwt)).json().active, true, 'still active a second before')
  clock.advance(1)
  assertInactive(t, await postIntrospect(session.jwt), 'token_expired')
  t.equal((await postRefresh(session.refresh_token)).statusCode, 200, 'the refresh token lives on')
})

t.test('refresh token expiry through the clock → token_expired', async (t) => {
  const { session } = await signIn()
  clock.advance(config.refreshTtl)
  assertProblem(t, await postRefresh(session.refresh_token), 401, 'token_expired')
})

t.test('JWKS: public, cacheable, public keys only', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(res.statusCode, 200, 'no API key needed')
  t.match(res.headers['content-type'], /^application\/json/)
  const cacheControl = String(res.headers['cache-control'])
  t.match(cacheControl, /max-age=\d+/, 'cacheable')
  t.notMatch(cacheControl, /no-store|private/)
  const { keys } = res.json()
  t.ok(Array.isArray(keys) && keys.length > 0, 'at least one key')
  for (const key of keys) {
    t.type(key.kid, 'string', 'every key has a kid')
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) {
      t.notOk(member in key, `no private member ${member}`)
    }
  }
  const withKey = await app.inject({
    method: 'GET',
    url: '/.well-known/jwks.json',
    headers: asService,
  })
  t.same(withKey.json(), res.json(), 'the same with or without an API key')
})
