import type { LightMyRequestResponse } from 'fastify'
import { decodeJwt } from 'jose'
import type { Test } from 'tap'
import t from 'tap'
import type { Env } from '../../src/config/index.js'
import { Purpose } from '../../src/tokens/codec.js'
import { KeyRing } from '../../src/tokens/keyring.js'
import { asAdmin, asService, build, linkSecret, type TestApp } from '../helpers/app.js'
import { ManualClock } from '../helpers/clock.js'
import { apiLink, assertProblem, postVerify } from '../helpers/http.js'
import { createDatabase } from '../helpers/postgres.js'

// Sessions as rows (DESIGN "Sessions"), through the API, on both stores: rotation with a grace
// window, reuse detection, client binding, the absolute end, and ending one session.

interface Grant {
  jwt: string
  expires_at: number
  refresh_token: string
  refresh_expires_at: number
  session_id: string
}

type Store = 'sqlite' | 'postgres'

async function harness(t: Test, store: Store, env: Env = {}): Promise<TestApp> {
  if (store === 'sqlite') return build(t, { env })
  const db = await createDatabase('latchkey_sessions')
  t.teardown(() => db.drop())
  const h = await build(t, { env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '8', ...env } })
  return h
}

function client(h: TestApp) {
  let counter = 0
  const post = (url: string, payload: Record<string, unknown>, headers = asService) =>
    h.app.inject({ method: 'POST', url, headers, payload })
  return {
    post,
    refresh: (token: string, headers = asService) =>
      post('/v1/sessions/refresh', { refresh_token: token }, headers),
    introspect: (jwt: string) => post('/v1/sessions/introspect', { jwt }),
    /** A new user, signed in through the API: their id and first grant. */
    async signIn(extra: Record<string, unknown> = {}, headers = asService) {
      const { token, userId } = await apiLink(h.app, { email: `s${++counter}@example.com` })
      const res = await postVerify(h.app, { token, ...extra }, headers)
      if (res.statusCode !== 200) throw new Error(`verify failed: ${res.statusCode} ${res.body}`)
      return { userId, grant: res.json().session as Grant }
    },
    sessions: async (userId: string) => {
      const res = await h.app.inject({
        method: 'GET',
        url: `/v1/admin/users/${userId}/sessions`,
        headers: asAdmin,
      })
      if (res.statusCode !== 200) throw new Error(`list failed: ${res.statusCode} ${res.body}`)
      return res.json().sessions as Record<string, unknown>[]
    },
  }
}

const grantOf = (res: LightMyRequestResponse): Grant => {
  if (res.statusCode !== 200) throw new Error(`expected a grant: ${res.statusCode} ${res.body}`)
  return res.json()
}

for (const store of ['sqlite', 'postgres'] as const) {
  t.test(store, async (t) => {
    const h = await harness(t, store)
    const api = client(h)
    const { clock, config } = h

    t.test('a verify opens a session: the grant names it, the JWT carries sid', async (t) => {
      const { userId, grant } = await api.signIn({ ip: '203.0.113.7', user_agent: 'Phone/1.0' })
      t.match(grant.session_id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/, 'a UUIDv7')
      t.equal(decodeJwt(grant.jwt).sid, grant.session_id)
      const [row] = await api.sessions(userId)
      t.match(row, {
        id: grant.session_id,
        user_id: userId,
        client: 'svc',
        ip: '203.0.113.7',
        user_agent: 'Phone/1.0',
        ended_at: null,
        end_reason: null,
        last_refreshed_at: null,
      })
    })

    t.test(
      'rotation: each refresh token works once; the previous one within the grace gets the current pair',
      async (t) => {
        const { userId, grant } = await api.signIn()
        clock.advance(60)
        const second = grantOf(await api.refresh(grant.refresh_token))
        t.equal(second.session_id, grant.session_id, 'the same session')
        t.not(second.refresh_token, grant.refresh_token, 'the next refresh token')

        clock.advance(config.refreshReuseGrace)
        const retried = grantOf(await api.refresh(grant.refresh_token))
        t.equal(
          retried.refresh_token,
          second.refresh_token,
          'the same refresh token, derived again',
        )
        t.equal(retried.refresh_expires_at, second.refresh_expires_at)
        t.equal((await api.introspect(retried.jwt)).json().active, true, 'and a JWT that works')
        const [row] = await api.sessions(userId)
        t.equal(
          row?.last_refreshed_at,
          new Date(clock.ms - config.refreshReuseGrace * 1000).toISOString(),
        )

        clock.advance(1)
        assertProblem(t, await api.refresh(grant.refresh_token), 401, 'token_used')
        assertProblem(t, await api.refresh(second.refresh_token), 401, 'session_ended')
        const introspected = (await api.introspect(second.jwt)).json()
        t.match(introspected, { active: false, reason: 'session_ended' })
        t.match((await api.sessions(userId))[0], { end_reason: 'refresh_reused' })
      },
    )

    t.test('20 concurrent refreshes of one token: exactly one rotation', async (t) => {
      const { grant } = await api.signIn()
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => api.refresh(grant.refresh_token)),
      )
      // The clock stands still, so every loser is one step behind within the grace: all 20 get
      // the pair the one rotation made.
      const granted = answers.map(grantOf)
      const tokens = new Set(granted.map((g) => g.refresh_token))
      t.equal(tokens.size, 1, 'every grant carries the one next refresh token')
      const [next] = tokens
      const third = grantOf(await api.refresh(next as string))
      t.not(third.refresh_token, next, 'and it rotates in turn')
    })

    t.test('a token two steps behind, even within the grace, ends the session', async (t) => {
      const { grant } = await api.signIn()
      const second = grantOf(await api.refresh(grant.refresh_token))
      const third = grantOf(await api.refresh(second.refresh_token))
      assertProblem(t, await api.refresh(grant.refresh_token), 401, 'token_used')
      assertProblem(t, await api.refresh(third.refresh_token), 401, 'session_ended')
    })

    t.test("another API key cannot refresh, end or use a key's session", async (t) => {
      const { grant } = await api.signIn()
      assertProblem(t, await api.refresh(grant.refresh_token, asAdmin), 401, 'token_invalid')
      const ending = await api.post('/v1/sessions/end', { session_id: grant.session_id }, asAdmin)
      assertProblem(t, ending, 404, 'not_found')
      const byToken = await api.post(
        '/v1/sessions/end',
        { refresh_token: grant.refresh_token },
        asAdmin,
      )
      assertProblem(t, byToken, 401, 'token_invalid')
      t.equal((await api.refresh(grant.refresh_token)).statusCode, 200, 'nothing was spent')
    })

    t.test("POST /v1/sessions/end: a backend's logout, by refresh token or by id", async (t) => {
      const { userId, grant } = await api.signIn()
      const ended = await api.post('/v1/sessions/end', { refresh_token: grant.refresh_token })
      t.equal(ended.statusCode, 204)
      assertProblem(t, await api.refresh(grant.refresh_token), 401, 'session_ended')
      t.match((await api.introspect(grant.jwt)).json(), { active: false, reason: 'session_ended' })
      t.match((await api.sessions(userId))[0], { end_reason: 'logout' })
      const again = await api.post('/v1/sessions/end', { refresh_token: grant.refresh_token })
      t.equal(again.statusCode, 204, 'ending it again is no error')

      const other = await api.signIn()
      const byId = await api.post('/v1/sessions/end', { session_id: other.grant.session_id })
      t.equal(byId.statusCode, 204)
      assertProblem(t, await api.refresh(other.grant.refresh_token), 401, 'session_ended')

      const unknown = { session_id: '0190b5a4-8000-7d1a-9f0e-000000000001' }
      assertProblem(t, await api.post('/v1/sessions/end', unknown), 404, 'not_found')
      assertProblem(t, await api.post('/v1/sessions/end', {}), 400, 'invalid_request')
      const both = { session_id: other.grant.session_id, refresh_token: other.grant.refresh_token }
      assertProblem(t, await api.post('/v1/sessions/end', both), 400, 'invalid_request')
    })

    t.test('an admin lists sessions and ends one; the others stay', async (t) => {
      const { userId, grant } = await api.signIn()
      const { token } = await apiLink(h.app, { user_id: userId })
      const second = (await postVerify(h.app, { token }, asAdmin)).json().session.session_id
      const listed = await api.sessions(userId)
      t.same(
        listed.map((s) => [s.id, s.client]),
        [
          [second, 'ops'],
          [grant.session_id, 'svc'],
        ],
        'newest first',
      )
      const url = `/v1/admin/sessions/${grant.session_id.toUpperCase()}`
      const ended = await h.app.inject({ method: 'DELETE', url, headers: asAdmin })
      t.equal(ended.statusCode, 204)
      t.match((await api.introspect(grant.jwt)).json(), { active: false, reason: 'session_ended' })
      const after = await api.sessions(userId)
      t.match(after, [{ id: second, ended_at: null }, { end_reason: 'admin' }])
      t.equal((await h.app.inject({ method: 'DELETE', url, headers: asAdmin })).statusCode, 204)
      const byService = await h.app.inject({ method: 'DELETE', url, headers: asService })
      assertProblem(t, byService, 403, 'forbidden')
      const nobody = '/v1/admin/sessions/0190b5a4-8000-7d1a-9f0e-000000000002'
      assertProblem(t, await h.app.inject({ method: 'DELETE', url: nobody, headers: asAdmin }), 404)
      const noUser = '/v1/admin/users/0190b5a4-8000-7d1a-9f0e-000000000003/sessions'
      assertProblem(t, await h.app.inject({ method: 'GET', url: noUser, headers: asAdmin }), 404)
    })

    t.test('revoke, disable and delete end every session, each with its reason', async (t) => {
      const revoked = await api.signIn()
      await api.post(`/v1/admin/users/${revoked.userId}/revoke`, {}, asAdmin)
      t.match(await api.sessions(revoked.userId), [{ end_reason: 'revoked' }])
      assertProblem(t, await api.refresh(revoked.grant.refresh_token), 401, 'token_revoked')

      const { userId, grant } = await api.signIn()
      await api.post(`/v1/admin/users/${userId}/disable`, {}, asAdmin)
      t.match((await api.introspect(grant.jwt)).json(), { reason: 'user_disabled' })
      assertProblem(t, await api.refresh(grant.refresh_token), 403, 'user_disabled')
      await api.post(`/v1/admin/users/${userId}/enable`, {}, asAdmin)
      t.match((await api.introspect(grant.jwt)).json(), { active: false, reason: 'token_revoked' })
      assertProblem(t, await api.refresh(grant.refresh_token), 401, 'token_revoked')
      t.match(await api.sessions(userId), [{ end_reason: 'disabled' }])

      const deleted = await api.signIn()
      const url = `/v1/admin/users/${deleted.userId}`
      t.equal((await h.app.inject({ method: 'DELETE', url, headers: asAdmin })).statusCode, 204)
      t.match((await api.introspect(deleted.grant.jwt)).json(), { reason: 'session_ended' })
      assertProblem(t, await api.refresh(deleted.grant.refresh_token), 401, 'token_invalid')
    })

    t.test(
      'a refresh token of the old shape (naming the user, no client) is token_invalid',
      async (t) => {
        const { userId } = await api.signIn()
        const ring = new KeyRing([{ kid: 1, secret: Buffer.from(linkSecret, 'base64url') }])
        const old = ring.mint({
          purpose: Purpose.Refresh,
          flags: 0,
          userId,
          expiresAt: Math.floor(clock.ms / 1000) + 3600,
          rev: 0,
          seq: 0,
        })
        assertProblem(t, await api.refresh(old), 401, 'token_invalid')
      },
    )

    t.test('introspection also takes the RFC 7662 form', async (t) => {
      const { userId, grant } = await api.signIn()
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/sessions/introspect',
        headers: { ...asService, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          token: grant.jwt,
          token_type_hint: 'access_token',
        }).toString(),
      })
      t.equal(res.statusCode, 200)
      t.strictSame(res.json(), {
        active: true,
        sub: userId,
        sid: grant.session_id,
        client_id: 'svc',
        exp: grant.expires_at,
        iat: decodeJwt(grant.jwt).iat,
      })
      const refreshByForm = await h.app.inject({
        method: 'POST',
        url: '/v1/sessions/refresh',
        headers: { ...asService, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `refresh_token=${grant.refresh_token}`,
      })
      assertProblem(t, refreshByForm, 415, 'unsupported_media_type')
      const both = { jwt: grant.jwt, token: grant.jwt }
      assertProblem(t, await api.post('/v1/sessions/introspect', both), 400, 'invalid_request')
    })

    t.test('old sessions are forgotten 30 days after they end', async (t) => {
      const { userId, grant } = await api.signIn()
      await api.post('/v1/sessions/end', { session_id: grant.session_id })
      clock.advance(29 * 86400)
      await h.app.housekeeping.runDue()
      t.equal((await api.sessions(userId)).length, 1, 'still listed after 29 days')
      clock.advance(2 * 86400)
      await h.app.housekeeping.runDue()
      t.equal((await api.sessions(userId)).length, 0, 'gone after 31')
    })
  })

  t.test(`${store}: nothing lives past SESSION_MAX_AGE`, async (t) => {
    const env = { SESSION_TTL: '900', REFRESH_TTL: '1000', SESSION_MAX_AGE: '2000' }
    const h = await harness(t, store, env)
    const api = client(h)
    const t0 = Math.floor(h.clock.ms / 1000)
    const { grant } = await api.signIn()
    t.equal(grant.refresh_expires_at, t0 + 1000, 'REFRESH_TTL first')
    h.clock.advance(900)
    const second = grantOf(await api.refresh(grant.refresh_token))
    t.equal(second.refresh_expires_at, t0 + 1900)
    t.equal(second.expires_at, t0 + 1800)
    h.clock.advance(900)
    const third = grantOf(await api.refresh(second.refresh_token))
    t.equal(third.refresh_expires_at, t0 + 2000, 'the session end caps the refresh token')
    t.equal(third.expires_at, t0 + 2000, 'and the JWT')
    h.clock.advance(200)
    assertProblem(t, await api.refresh(third.refresh_token), 401, 'token_expired')
    t.match((await api.introspect(third.jwt)).json(), { active: false, reason: 'token_expired' })
  })
}

t.test('a refresh in the last second of a session never fails halfway', async (t) => {
  // Every read of this clock moves it on by 1 ms, so the request's steps see different instants.
  let ticks = 0
  const clock = new ManualClock(() => Date.UTC(2030, 0, 1) + 500 + ticks++)
  const h = await build(t, { clock, env: { SESSION_MAX_AGE: '5', REFRESH_TTL: '60' } })
  const api = client(h)
  for (let before = 40; before >= 1; before--) {
    const { grant } = await api.signIn()
    const end = grant.refresh_expires_at * 1000
    clock.advance((end - before - clock.ms) / 1000)
    const res = await api.refresh(grant.refresh_token)
    if (res.statusCode === 200) {
      t.ok(grantOf(res).expires_at <= grant.refresh_expires_at, `${before} ms before: a grant`)
    } else {
      assertProblem(t, res, 401, 'token_expired')
    }
  }
})
