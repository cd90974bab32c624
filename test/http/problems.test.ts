import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { asAdmin, asService, build, tokenOf } from '../helpers/app.js'
import { assertProblem, postLink, postVerify } from '../helpers/http.js'

const harness = await build(t)
const { app } = harness

const json = { ...asService, 'content-type': 'application/json' }

const raw = (url: string, payload: string, headers: Record<string, string> = json) =>
  app.inject({ method: 'POST', url, headers, payload })

t.test('malformed JSON → 400 invalid_request', async (t) => {
  for (const payload of ['{', '{"email": }', "{'email': 'a@example.com'}", '{"a":1}x', '']) {
    t.test(JSON.stringify(payload), async (t) => {
      assertProblem(t, await raw('/v1/links', payload), 400, 'invalid_request')
    })
  }
})

t.test('a body that is not a JSON object → 400', async (t) => {
  for (const payload of ['null', '[]', '"a@example.com"', '42', 'true']) {
    assertProblem(t, await raw('/v1/links', payload), 400, 'invalid_request')
  }
})

t.test('a prototype-poisoning body → 400, not a 500', async (t) => {
  const payload = '{"__proto__": {"admin": true}, "email": "a@example.com"}'
  assertProblem(t, await raw('/v1/links', payload), 400)
  const viaConstructor = '{"constructor": {"prototype": {"admin": true}}, "email": "a@example.com"}'
  assertProblem(t, await raw('/v1/links', viaConstructor), 400)
})

t.test('wrong content type → 4xx problem', async (t) => {
  const body = JSON.stringify({ email: 'ct@example.com', deliver: 'none' })
  for (const type of ['application/xml', 'application/x-www-form-urlencoded', 'image/png']) {
    const res = await raw('/v1/links', body, { ...asService, 'content-type': type })
    assertProblem(t, res, 415, 'unsupported_media_type')
  }
  // text/plain has a parser (a string body), which then fails the schema.
  assertProblem(
    t,
    await raw('/v1/links', body, { ...asService, 'content-type': 'text/plain' }),
    [400, 415],
  )
})

t.test('a body over the limit → 413 payload_too_large', async (t) => {
  const payload = JSON.stringify({ email: 'big@example.com', scope: 'x'.repeat(20_000) })
  const res = await raw('/v1/links', payload)
  assertProblem(t, res, 413, 'payload_too_large')
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('unknown members in the body → 400 invalid_request', async (t) => {
  const cases: [string, Record<string, unknown>][] = [
    ['/v1/links', { email: 'a@example.com', redirect_url: '/x' }],
    ['/v1/links', { email: 'a@example.com', deliver: 'none', ttl: 60 }],
    ['/v1/links/verify', { token: 'A'.repeat(64), redirect_url: '/x' }],
    ['/v1/sessions/refresh', { refresh_token: 'A'.repeat(64), scope: 'x' }],
    ['/v1/sessions/introspect', { jwt: 'a.b.c', refresh_token: 'x' }],
    ['/v1/sessions/end', { session_id: '0190b5a4-8000-7d1a-9f0e-000000000001', user_id: 'x' }],
  ]
  for (const [url, body] of cases) {
    const res = await raw(url, JSON.stringify(body))
    assertProblem(t, res, 400, 'invalid_request')
    t.match(res.json().detail, /additional properties/i, 'says what is wrong')
  }
})

t.test('wrong types → 4xx problem', async (t) => {
  const cases: [string, Record<string, unknown>, number][] = [
    ['/v1/links', { email: 42 }, 400],
    ['/v1/links', { email: 'a@example.com', ttl_seconds: 1.5 }, 400],
    ['/v1/links', { email: 'a@example.com', one_time: 'yes' }, 400],
    ['/v1/links', { email: 'a@example.com', deliver: 'fax' }, 400],
    ['/v1/links', { email: 'a@example.com', scope: 'bad\nscope' }, 400],
    ['/v1/links', { email: 'a@example.com', redirect_to: {} }, 400],
    ['/v1/links', { email: 'a@example.com', bind_ip: [] }, 400],
    ['/v1/links', { user_id: 'not-a-uuid' }, 400],
    ['/v1/links', { email: null }, 400],
    ['/v1/links/verify', { token: '' }, 400],
    ['/v1/links/verify', {}, 400],
    ['/v1/links/verify', { token: 'A'.repeat(2000) }, 400],
    ['/v1/links/verify', { token: { value: 'x' } }, 400],
    ['/v1/sessions/refresh', { refresh_token: null }, 400],
    ['/v1/sessions/introspect', { jwt: { alg: 'none' } }, 400],
    // A number where a token belongs may be read as its digits; it is then simply not a token.
    ['/v1/links/verify', { token: 123 }, 401],
    ['/v1/sessions/refresh', { refresh_token: false }, 401],
  ]
  for (const [url, body, status] of cases) {
    t.test(`${url} ${JSON.stringify(body).slice(0, 60)}`, async (t) => {
      const res = await raw(url, JSON.stringify(body))
      assertProblem(t, res, [400, status], status === 400 ? 'invalid_request' : undefined)
    })
  }
})

// The API refuses unknown members so that a client's mistake fails loudly; a value of the wrong
// JSON type is the same kind of mistake and must not be quietly converted into a valid one.
t.test('values of the wrong JSON type are refused, not coerced', async (t) => {
  const cases: Record<string, unknown>[] = [
    { email: ['coerced-1@example.com'], deliver: 'none' },
    { email: 'coerced-2@example.com', deliver: 'none', ttl_seconds: '60' },
    { email: 'coerced-3@example.com', deliver: 'none', create_user: 1 },
    { email: 'coerced-4@example.com', deliver: 'none', one_time: 'false' },
  ]
  for (const body of cases) {
    t.test(JSON.stringify(body), async (t) => {
      assertProblem(t, await raw('/v1/links', JSON.stringify(body)), 400, 'invalid_request')
    })
  }
})

t.test('a rejected body is not echoed back', async (t) => {
  const secret = 'S3cr3tT0k3nValueThatMustNotComeBack'
  const res = await raw('/v1/links/verify', JSON.stringify({ token: secret, extra: secret }))
  assertProblem(t, res, 400, 'invalid_request')
  t.notMatch(res.body, secret)
})

t.test('unknown routes → 404 not_found problem', async (t) => {
  const cases: [InjectOptions['method'], string][] = [
    ['GET', '/nope'],
    ['GET', '/v1/nope'],
    ['POST', '/v1/links/nope'],
    ['GET', '/v1/admin/users/a/b/c'],
    ['GET', '/login/nope?token=abc'],
    ['GET', '/docs/static/nope.js'],
  ]
  for (const [method, url] of cases) {
    const res = await app.inject({ method, url, headers: asAdmin })
    assertProblem(t, res, 404, 'not_found')
    t.notOk(res.headers.allow, 'no Allow on a 404')
    t.notMatch(res.json().detail, /token=/, 'the detail names the path, not the query')
  }
})

t.test('a known path with the wrong method → 405 method_not_allowed with Allow', async (t) => {
  const cases: [InjectOptions['method'], string, string][] = [
    ['GET', '/v1/links', 'POST'],
    ['DELETE', '/v1/links/verify', 'POST'],
    ['PUT', '/v1/admin/users', 'GET, HEAD'],
    ['POST', '/v1/admin/users/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', 'DELETE, GET, HEAD'],
    ['DELETE', '/login', 'GET, HEAD, POST'],
    ['GET', '/v1/sessions/refresh', 'POST'],
    ['PATCH', '/healthz', 'GET, HEAD'],
    ['OPTIONS', '/.well-known/jwks.json?x=1', 'GET, HEAD'],
  ]
  for (const [method, url, allow] of cases) {
    t.test(`${method} ${url}`, async (t) => {
      // No key at all: which methods a path answers is public (the OpenAPI document says it).
      const res = await app.inject({ method, url })
      assertProblem(t, res, 405, 'method_not_allowed')
      t.equal(res.headers.allow, allow)
      t.notMatch(res.json().detail, /\?/, 'the detail names the path, not the query')
    })
  }
})

t.test('a wrong method is 405 before its body is read: not 415, not 400', async (t) => {
  const cases: [InjectOptions['method'], string, string, string][] = [
    ['DELETE', '/login/link', 'application/x-unknown', 'x'],
    ['OPTIONS', '/healthz', 'application/json', '{'],
    ['POST', '/v1/admin/users', 'application/json', 'ü'],
  ]
  for (const [method, url, contentType, payload] of cases) {
    const res = await app.inject({
      method,
      url,
      headers: { 'content-type': contentType },
      payload,
    })
    assertProblem(t, res, 405, 'method_not_allowed')
  }
})

t.test('malformed JSON: the detail never quotes the body', async (t) => {
  const secret = 'lk_not_a_real_refresh_token_but_it_must_not_come_back'
  const res = await app.inject({
    method: 'POST',
    url: '/v1/sessions/refresh',
    headers: { ...asService, 'content-type': 'application/json' },
    payload: `{"refresh_token": ${secret}}`,
  })
  assertProblem(t, res, 400, 'invalid_request')
  t.notMatch(res.body, /not_a_real/)
})

t.test('malformed URLs → 400 problem+json', async (t) => {
  t.test('a broken percent-encoding in the path', async (t) => {
    for (const url of ['/v1/admin/users/%zz', '/v1/links%E0%A4%A', '/nope%']) {
      const res = await app.inject({ method: 'GET', url, headers: asAdmin })
      assertProblem(t, res, 400, 'invalid_request')
      if (url.startsWith('/v1/')) t.equal(res.headers['cache-control'], 'no-store')
    }
  })

  t.test('a path parameter far too long for a user id', async (t) => {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/admin/users/${'a'.repeat(200)}`,
      headers: asAdmin,
    })
    assertProblem(t, res, [400, 414])
    t.equal(res.headers['cache-control'], 'no-store')
  })
})

t.test('every /v1 answer has cache-control: no-store', async (t) => {
  const issued = await postLink(app, { email: 'cache@example.com', deliver: 'none' })
  const token = tokenOf(issued.json().link)
  const verified = await postVerify(app, { token })
  const { jwt, refresh_token: refreshToken } = verified.json().session
  const userId = issued.json().user_id
  const answers: [string, LightMyRequestResponse][] = [
    ['202 issue', issued],
    ['200 verify', verified],
    ['401 verify again', await postVerify(app, { token })],
    [
      '200 refresh',
      await app.inject({
        method: 'POST',
        url: '/v1/sessions/refresh',
        headers: asService,
        payload: { refresh_token: refreshToken },
      }),
    ],
    [
      '200 introspect',
      await app.inject({
        method: 'POST',
        url: '/v1/sessions/introspect',
        headers: asService,
        payload: { jwt },
      }),
    ],
    [
      '200 admin get',
      await app.inject({ method: 'GET', url: `/v1/admin/users/${userId}`, headers: asAdmin }),
    ],
    [
      '200 admin list',
      await app.inject({ method: 'GET', url: '/v1/admin/users', headers: asAdmin }),
    ],
    ['401 no key', await app.inject({ method: 'GET', url: '/v1/admin/users' })],
    [
      '403 service key',
      await app.inject({ method: 'GET', url: '/v1/admin/users', headers: asService }),
    ],
    ['400 bad body', await raw('/v1/links', '{')],
    [
      '404 unknown /v1 route',
      await app.inject({ method: 'GET', url: '/v1/nope', headers: asAdmin }),
    ],
    [
      '204 delete',
      await app.inject({ method: 'DELETE', url: `/v1/admin/users/${userId}`, headers: asAdmin }),
    ],
  ]
  for (const [name, res] of answers) {
    t.equal(res.headers['cache-control'], 'no-store', `${name} (${res.statusCode})`)
  }
})

t.test('/healthz and /readyz', async (t) => {
  const health = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(health.statusCode, 200)
  t.same(health.json(), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready' })
})

t.test('/docs answers, /docs/json is the OpenAPI document', async (t) => {
  let res = await app.inject({ method: 'GET', url: '/docs' })
  for (let hops = 0; hops < 3 && res.statusCode >= 300 && res.statusCode < 400; hops++) {
    const location = String(res.headers.location)
    res = await app.inject({ method: 'GET', url: new URL(location, 'http://x/docs').pathname })
  }
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)

  const doc = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(doc.statusCode, 200)
  const openapi = doc.json()
  t.match(openapi.openapi, /^3\./, 'an OpenAPI 3 document')
  t.type(openapi.info?.title, 'string')
  for (const path of [
    '/v1/links',
    '/v1/links/verify',
    '/v1/sessions/refresh',
    '/v1/sessions/introspect',
    '/.well-known/jwks.json',
    '/v1/admin/users',
    '/v1/admin/users/{id}',
    '/v1/admin/users/{id}/revoke',
  ]) {
    t.ok(openapi.paths?.[path], `documents ${path}`)
  }
  t.ok(openapi.paths['/v1/links'].post.requestBody, 'with request bodies')
})
