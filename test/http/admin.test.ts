import type { InjectOptions } from 'fastify'
import t from 'tap'
import { adminKey, asAdmin, asService, build, serviceKey, tokenOf } from '../helpers/app.js'
import { apiLink, assertProblem, postLink, postVerify } from '../helpers/http.js'

const harness = await build(t)
const { app, clock } = harness

const UNKNOWN_ID = '00000000-0000-7000-8000-000000000000'

let counter = 0

const send = (
  method: InjectOptions['method'],
  url: string,
  headers: Record<string, string> = asAdmin,
) => app.inject({ method, url, headers })

/** Issues a link (creating the user) and returns the user id, the link's token and the email. */
const newUser = async (email = `admin-${++counter}@example.com`) => ({
  ...(await apiLink(app, { email })),
  email,
})

const verify = (token: string) => postVerify(app, { token })

t.test('API key authentication', async (t) => {
  const route = '/v1/admin/users'

  t.test('no Authorization header → 401 with WWW-Authenticate', async (t) => {
    const res = await send('GET', route, {})
    assertProblem(t, res, 401, 'unauthorized')
    t.match(res.headers['www-authenticate'], /^Bearer/)
  })

  const malformed: Record<string, string> = {
    'a wrong key': 'Bearer lk_not-a-real-key',
    'the key without Bearer': adminKey.key,
    'Basic instead of Bearer': `Basic ${Buffer.from(`ops:${adminKey.key}`).toString('base64')}`,
    'a key with a trailing extra part': `Bearer ${adminKey.key} extra`,
    'an empty Bearer': 'Bearer ',
    'the key with one character changed': `Bearer ${adminKey.key.slice(0, -1)}${
      adminKey.key.endsWith('A') ? 'B' : 'A'
    }`,
  }
  for (const [name, authorization] of Object.entries(malformed)) {
    t.test(`${name} → 401 with WWW-Authenticate`, async (t) => {
      const res = await send('GET', route, { authorization })
      assertProblem(t, res, 401, 'unauthorized')
      t.match(res.headers['www-authenticate'], /^Bearer/)
    })
  }

  t.test('a service key on an admin route → 403 forbidden', async (t) => {
    const { userId } = await newUser()
    for (const [method, url] of [
      ['GET', route],
      ['GET', `${route}/${userId}`],
      ['DELETE', `${route}/${userId}`],
      ['POST', `${route}/${userId}/revoke`],
      ['POST', `${route}/${userId}/disable`],
      ['POST', `${route}/${userId}/enable`],
    ] as const) {
      assertProblem(t, await send(method, url, asService), 403, 'forbidden')
    }
    t.equal((await send('GET', `${route}/${userId}`)).statusCode, 200, 'the user is still there')
  })

  t.test('an admin key on a service route works', async (t) => {
    const payload = { email: `by-admin-${++counter}@example.com`, deliver: 'none' }
    const res = await postLink(app, payload, asAdmin)
    t.equal(res.statusCode, 202)
    const verified = await postVerify(app, { token: tokenOf(res.json().link) }, asAdmin)
    t.equal(verified.statusCode, 200)
  })

  t.test('service routes refuse a missing or wrong key too', async (t) => {
    for (const headers of [{}, { authorization: `Bearer ${serviceKey.key}x` }]) {
      const res = await postLink(app, { email: 'nobody@example.com', deliver: 'none' }, headers)
      assertProblem(t, res, 401, 'unauthorized')
    }
  })
})

t.test('list users', async (t) => {
  t.test('by email, case-insensitive on the domain', async (t) => {
    const n = ++counter
    const { userId } = await newUser(`Grace${n}@Example.com`)
    for (const query of [
      `Grace${n}@example.com`,
      `Grace${n}@EXAMPLE.COM`,
      ` Grace${n}@example.com `,
    ]) {
      const res = await send('GET', `/v1/admin/users?email=${encodeURIComponent(query)}`)
      t.equal(res.statusCode, 200, `found by ${JSON.stringify(query)}`)
      const { users } = res.json()
      t.equal(users.length, 1)
      t.equal(users[0].id, userId)
      t.equal(users[0].email, `Grace${n}@example.com`)
    }
    const none = await send('GET', '/v1/admin/users?email=nobody-here%40example.com')
    t.equal(none.statusCode, 200)
    t.same(none.json(), { users: [] }, 'an unknown email is an empty list')
    assertProblem(
      t,
      await send('GET', '/v1/admin/users?email=not-an-email'),
      400,
      'invalid_request',
    )
  })

  t.test('without email: the newest first, limited', async (t) => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      clock.advance(1)
      ids.push((await newUser()).userId)
    }
    const res = await send('GET', '/v1/admin/users?limit=3')
    t.equal(res.statusCode, 200)
    const { users } = res.json()
    t.same(
      users.map((u: { id: string }) => u.id),
      ids.reverse(),
      'the three just created, newest first',
    )
    const all = await send('GET', '/v1/admin/users')
    t.ok(all.json().users.length >= 3, 'the default limit lists them too')
    assertProblem(t, await send('GET', '/v1/admin/users?limit=0'), 400, 'invalid_request')
    assertProblem(t, await send('GET', '/v1/admin/users?limit=abc'), 400, 'invalid_request')
    assertProblem(t, await send('GET', '/v1/admin/users?limit=201'), 400, 'invalid_request')
    assertProblem(t, await send('GET', '/v1/admin/users?mail=x'), 400, 'invalid_request')
  })
})

t.test('get a user: the record', async (t) => {
  const { userId, email } = await newUser()
  const res = await send('GET', `/v1/admin/users/${userId}`)
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    id: userId,
    email,
    status: 'active',
    created_at: new Date(clock.ms).toISOString(),
    last_login_at: null,
  })
  const upper = await send('GET', `/v1/admin/users/${userId.toUpperCase()}`)
  t.equal(upper.statusCode, 200, 'the id is case-insensitive')
  t.equal(upper.json().id, userId)
})

t.test('disable, then enable', async (t) => {
  const { userId, token, email } = await newUser()
  const first = await verify(token)
  t.equal(first.statusCode, 200)
  const { jwt } = first.json().session
  const { token: pending } = await newUser(email)

  const disabled = await send('POST', `/v1/admin/users/${userId}/disable`)
  t.equal(disabled.statusCode, 200)
  t.equal(disabled.json().status, 'disabled')
  t.equal(disabled.json().id, userId)
  assertProblem(t, await verify(pending), 403, 'user_disabled')
  const inactive = await app.inject({
    method: 'POST',
    url: '/v1/sessions/introspect',
    headers: asService,
    payload: { jwt },
  })
  t.same(inactive.json(), { active: false, reason: 'user_disabled' }, 'the session is inactive')

  const enabled = await send('POST', `/v1/admin/users/${userId}/enable`)
  t.equal(enabled.statusCode, 200)
  t.equal(enabled.json().status, 'active')
  // The disable moved rev: an enable revives nothing issued before it.
  assertProblem(t, await verify(pending), 401, 'token_revoked')
  const still = await app.inject({
    method: 'POST',
    url: '/v1/sessions/introspect',
    headers: asService,
    payload: { jwt },
  })
  t.same(still.json(), { active: false, reason: 'token_revoked' }, 'nor the session')
  const { token: fresh } = await newUser(email)
  t.equal((await verify(fresh)).statusCode, 200, 'a link made after the enable works')
})

t.test('delete', async (t) => {
  const { userId, token } = await newUser()
  const res = await send('DELETE', `/v1/admin/users/${userId}`)
  t.equal(res.statusCode, 204)
  t.equal(res.body, '', 'no body')
  assertProblem(t, await send('GET', `/v1/admin/users/${userId}`), 404, 'not_found')
  assertProblem(t, await verify(token), 401, 'token_invalid')
  assertProblem(t, await send('DELETE', `/v1/admin/users/${userId}`), 404, 'not_found')
})

t.test('unknown id → 404 on every user route', async (t) => {
  for (const [method, url] of [
    ['GET', `/v1/admin/users/${UNKNOWN_ID}`],
    ['DELETE', `/v1/admin/users/${UNKNOWN_ID}`],
    ['POST', `/v1/admin/users/${UNKNOWN_ID}/revoke`],
    ['POST', `/v1/admin/users/${UNKNOWN_ID}/disable`],
    ['POST', `/v1/admin/users/${UNKNOWN_ID}/enable`],
  ] as const) {
    assertProblem(t, await send(method, url), 404, 'not_found')
  }
})

t.test('malformed id → 400 on every user route', async (t) => {
  for (const id of ['abc', '1234', `${UNKNOWN_ID}0`, 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz']) {
    for (const [method, url] of [
      ['GET', `/v1/admin/users/${id}`],
      ['DELETE', `/v1/admin/users/${id}`],
      ['POST', `/v1/admin/users/${id}/revoke`],
      ['POST', `/v1/admin/users/${id}/disable`],
      ['POST', `/v1/admin/users/${id}/enable`],
    ] as const) {
      assertProblem(t, await send(method, url), 400, 'invalid_request')
    }
  }
})
