import t from 'tap'
import { adminKey, asAdmin, asService, build, serviceKey } from '../helpers/app.js'
import { apiLink, assertProblem, postVerify } from '../helpers/http.js'
import { Browser, mailedLink, mustForm, requestLink, tokenIn } from '../helpers/pages.js'

// The audit trail through the API (DESIGN "Audit, events and the revocation feed"): who did what, named by their API key, with no token, code, JWT or key anywhere.

const DAY = 86_400
let counter = 0
const email = () => `audit-${++counter}@example.com`

interface Event {
  id: string
  at: string
  type: string
  user_id: string | null
  session_id: string | null
  actor: string
  ip: string | null
  user_agent: string | null
  detail: Record<string, unknown>
}

t.test('a sign-in, a refresh, a logout and the admin changes, each by its actor', async (t) => {
  const { app } = await build(t)
  const audit = async (query: string): Promise<{ events: Event[]; next?: string }> => {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/admin/audit?${query}`,
      headers: asAdmin,
    })
    t.equal(res.statusCode, 200, res.body)
    return res.json()
  }
  const { userId, token, body } = await apiLink(app, { email: email() })
  const expiresAt = body.expires_at
  const verified = await postVerify(app, { token, ip: '203.0.113.5', user_agent: 'Phone/1.0' })
  t.equal(verified.statusCode, 200)
  const session = verified.json().session
  const refreshed = await app.inject({
    method: 'POST',
    url: '/v1/sessions/refresh',
    headers: asService,
    payload: { refresh_token: session.refresh_token },
  })
  t.equal(refreshed.statusCode, 200)
  const ended = await app.inject({
    method: 'POST',
    url: '/v1/sessions/end',
    headers: asService,
    payload: { session_id: session.session_id },
  })
  t.equal(ended.statusCode, 204)
  const admin = (method: 'POST' | 'DELETE', path: string) =>
    app.inject({
      method,
      url: `/v1/admin/users/${userId}${path}`,
      headers: { ...asAdmin, 'user-agent': 'ops-console' },
    })
  t.equal((await admin('POST', '/revoke')).statusCode, 200)
  t.equal((await admin('POST', '/disable')).statusCode, 200)
  t.equal((await admin('POST', '/enable')).statusCode, 200)
  t.equal((await admin('DELETE', '')).statusCode, 204)

  const { events } = await audit(`user_id=${userId}`)
  t.strictSame(
    events.reverse().map((e) => [e.type, e.actor, e.session_id, e.detail]),
    [
      ['user.created', 'key:svc', null, { created_by: 'api' }],
      [
        'link.issued',
        'key:svc',
        null,
        { purpose: 'login', delivery: 'none', one_time: true, expires_at: expiresAt },
      ],
      ['link.verified', 'key:svc', session.session_id, { one_time: true, expires_at: expiresAt }],
      ['session.created', 'key:svc', session.session_id, { client: 'svc' }],
      ['session.refreshed', 'key:svc', session.session_id, { refresh_seq: 1 }],
      ['session.ended', 'key:svc', session.session_id, { reason: 'logout', rev: 0 }],
      ['user.revoked', 'key:ops', null, { reason: 'revoked', rev: 1 }],
      ['user.disabled', 'key:ops', null, { reason: 'disabled', rev: 2 }],
      ['user.enabled', 'key:ops', null, { rev: 2 }],
      ['user.deleted', 'key:ops', null, { reason: 'deleted', rev: 2 }],
    ],
  )
  t.match(events[2], { ip: '203.0.113.5', user_agent: 'Phone/1.0' }, 'the device signing in')
  t.match(events.at(-1), { user_agent: 'ops-console', at: /^\d{4}-\d\d-\d\dT/ })

  // Nothing secret in any event: not the link, the tokens, the JWT or either API key.
  const all = JSON.stringify(await audit('limit=200'))
  for (const secret of [
    token,
    session.jwt,
    session.refresh_token,
    refreshed.json().refresh_token,
    refreshed.json().jwt,
    serviceKey.key,
    adminKey.key,
  ]) {
    t.notOk(all.includes(secret), 'no secret in the trail')
  }
})

t.test('a link that fails after its MAC is recorded with its code; a forgery is not', async (t) => {
  const { app, clock } = await build(t)
  const used = await apiLink(app, { email: email() })
  t.equal((await postVerify(app, { token: used.token })).statusCode, 200)
  assertProblem(t, await postVerify(app, { token: used.token }), 401, 'token_used')
  const expired = await apiLink(app, { email: email(), ttl_seconds: 60 })
  const revoked = await apiLink(app, { email: email() })
  await app.inject({
    method: 'POST',
    url: `/v1/admin/users/${revoked.userId}/revoke`,
    headers: asAdmin,
  })
  assertProblem(t, await postVerify(app, { token: revoked.token }), 401, 'token_revoked')
  clock.advance(61)
  assertProblem(t, await postVerify(app, { token: expired.token }), 401, 'token_expired')
  const forged = `${used.token.slice(0, -2)}${used.token.endsWith('AA') ? 'BB' : 'AA'}`
  assertProblem(t, await postVerify(app, { token: forged }), 401, 'token_invalid')
  // A dry run records nothing, failed or not.
  assertProblem(t, await postVerify(app, { token: used.token, consume: false }), 401, 'token_used')

  const res = await app.inject({
    method: 'GET',
    url: '/v1/admin/audit?type=link.failed',
    headers: asAdmin,
  })
  const failed: Event[] = res.json().events
  t.strictSame(
    failed.reverse().map((e) => [e.user_id, e.actor, e.detail]),
    [
      [
        used.userId,
        'key:svc',
        { code: 'token_used', purpose: 'login', expires_at: used.body.expires_at },
      ],
      [
        revoked.userId,
        'key:svc',
        { code: 'token_revoked', purpose: 'login', expires_at: revoked.body.expires_at },
      ],
      // Expired: the key ring stops before the purpose is read, after the MAC (so the expiry
      // is the token's own).
      [expired.userId, 'key:svc', { code: 'token_expired', expires_at: expired.body.expires_at }],
    ],
  )
})

t.test('filters, families, paging and who may read', async (t) => {
  const { app } = await build(t)
  for (let i = 0; i < 3; i++) {
    const { token } = await apiLink(app, { email: email() })
    await postVerify(app, { token })
  }
  const get = (query: string, headers = asAdmin) =>
    app.inject({ method: 'GET', url: `/v1/admin/audit?${query}`, headers })
  const all: Event[] = (await get('limit=200')).json().events
  t.equal(all.length, 12)
  t.strictSame(
    (await get('type=session.*')).json().events.map((e: Event) => e.type),
    ['session.created', 'session.created', 'session.created'],
  )
  t.equal((await get('type=user.created')).json().events.length, 3)
  t.equal((await get('type=link.issued')).json().events.length, 3)
  t.strictSame((await get('type=email.*')).json(), { events: [] })
  const first = (await get('limit=4')).json()
  t.equal(first.events.length, 4)
  const rest = (await get(`limit=200&before=${first.next}`)).json()
  t.strictSame([...first.events, ...rest.events], all, 'pages join up')
  t.equal(rest.next, undefined)
  for (const bad of ['type=user', 'type=*', 'type=user.%25', 'before=nope', 'limit=0', 'x=1']) {
    assertProblem(t, await get(bad), 400, 'invalid_request')
  }
  assertProblem(t, await get('limit=1', asService), 403, 'forbidden')
})

t.test(
  'the housekeeping prunes events after AUDIT_RETENTION, the feed after REFRESH_TTL',
  async (t) => {
    const h = await build(t, {
      env: { AUDIT_RETENTION: '1d', REFRESH_TTL: String(3 * DAY) },
      overrides: { housekeeping: { autoStart: false } },
    })
    const { app, clock } = h
    const { userId, token } = await apiLink(app, { email: email() })
    await postVerify(app, { token })
    await app.inject({ method: 'POST', url: `/v1/admin/users/${userId}/revoke`, headers: asAdmin })
    const types = async () =>
      (await app.inject({ method: 'GET', url: '/v1/admin/audit', headers: asAdmin }))
        .json()
        .events.map((e: Event) => e.type)
    clock.advance(2 * DAY)
    await app.housekeeping.runDue()
    t.strictSame(await types(), ['session.ended', 'user.revoked'], 'the feed stays')
    clock.advance(2 * DAY)
    await app.housekeeping.runDue()
    t.strictSame(await types(), [], 'then it goes too')
  },
)

t.test('the hosted pages act as hosted, and no cookie or link lands in an event', async (t) => {
  const h = await build(t)
  const { app } = h
  const b = new Browser(app)
  const address = email()
  await requestLink(b, address)
  const link = await mailedLink(h, address)
  const confirmPage = await b.get(link)
  const form = mustForm(confirmPage.body, '/login/link')
  const confirmed = await b.post('/login/link', form)
  t.ok(
    confirmed.cookies.some((c) => c.value !== ''),
    'signed in',
  )
  // The same button again: the link is used now, and that failure is recorded.
  const again = await b.post('/login/link', form)
  t.not(again.statusCode, 200)
  const page = await b.get('/logout')
  await b.post('/logout', mustForm(page.body, '/logout'))

  const res = await app.inject({
    method: 'GET',
    url: '/v1/admin/audit?limit=200',
    headers: asAdmin,
  })
  const events: Event[] = res.json().events.reverse()
  const expiresAt = Buffer.from(tokenIn(link), 'base64url').readUInt32BE(20)
  t.strictSame(
    events.map((e) => [e.type, e.actor, e.detail]),
    [
      ['user.created', 'hosted', { created_by: 'hosted' }],
      ['email.queued', 'hosted', { message_id: events[1]?.detail.message_id }],
      ['email.sent', 'system', { message_id: events[1]?.detail.message_id, provider_id: null }],
      [
        'link.viewed',
        'hosted',
        {
          expires_at: expiresAt,
          seconds_since_issue: 0,
          method: 'GET',
          cookie: true,
          ua_family: 'other',
          domain: 'example.com',
        },
      ],
      ['link.verified', 'hosted', { one_time: true, expires_at: expiresAt }],
      ['session.created', 'hosted', { client: 'hosted' }],
      ['link.failed', 'hosted', { code: 'token_used', purpose: 'login', expires_at: expiresAt }],
      ['session.ended', 'hosted', { reason: 'logout', rev: 0 }],
    ],
  )
  const text = res.body
  t.notOk(text.includes(new URL(link).searchParams.get('token') as string), 'no link token')
  for (const value of b.cookies.values()) t.notOk(text.includes(value), 'no cookie value')
  for (const { value } of confirmed.cookies.filter((c) => c.value !== '')) {
    t.notOk(text.includes(value), 'no session cookie')
  }
})
