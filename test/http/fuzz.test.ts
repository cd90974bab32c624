import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { asAdmin, asService, startApp, tokenOf } from '../helpers/app.js'

// One app for every run: state piles up (users, used links) the way it does in production.
const harness = await startApp()
const { app } = harness
t.teardown(() => harness.close())

// Real material for the generators, so some requests get past validation into the use cases.
const seeded = await app.inject({
  method: 'POST',
  url: '/v1/links',
  headers: asService,
  payload: { email: 'fuzz-seed@example.com', deliver: 'none', redirect_to: '/after' },
})
const seedUserId: string = seeded.json().user_id
const seedToken = tokenOf(seeded.json().link)
const issueSeed = async (payload: Record<string, unknown>) =>
  tokenOf(
    (
      await app.inject({
        method: 'POST',
        url: '/v1/links',
        headers: asService,
        payload: { email: 'fuzz-seed@example.com', deliver: 'none', ...payload },
      })
    ).json().link,
  )
const seedTokens = [
  seedToken,
  await issueSeed({ one_time: false }),
  await issueSeed({ scope: 'files:read' }),
  await issueSeed({ bind_ip: '203.0.113.7' }),
]

const signedIn = await app.inject({
  method: 'POST',
  url: '/v1/links',
  headers: asService,
  payload: { email: 'fuzz-session@example.com', deliver: 'none' },
})
const seedSession: { jwt: string; refresh_token: string } = (
  await app.inject({
    method: 'POST',
    url: '/v1/links/verify',
    headers: asService,
    payload: { token: tokenOf(signedIn.json().link) },
  })
).json().session

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

const ROUTES = [
  '/v1/links',
  '/v1/links/verify',
  '/v1/sessions/refresh',
  '/v1/sessions/introspect',
  '/v1/sessions/exchange',
  '/.well-known/jwks.json',
  '/v1/admin/users',
  '/v1/admin/audit',
  '/healthz',
  '/readyz',
  '/metrics',
  '/docs',
  '/docs/json',
  '/docs/static/index.html',
  '/login',
  '/login/link',
  '/logout',
  '/',
]

/** Printable ASCII: what a header value may hold. */
const printable = (maxLength = 40) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength,
  })

/** A string with one character of `base` replaced: near misses reach the MAC and the parsers. */
const mutated = (base: string) =>
  fc
    .tuple(fc.nat({ max: base.length - 1 }), fc.constantFrom(...'AZaz09-_.=+/ '))
    .map(([i, c]) => `${base.slice(0, i)}${c}${base.slice(i + 1)}`)

const tokenLike = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...seedTokens) },
  { weight: 1, arbitrary: mutated(seedToken) },
  {
    weight: 1,
    arbitrary: fc
      .base64String({ minLength: 64, maxLength: 64 })
      .map((b) => b.replaceAll('+', '-').replaceAll('/', '_')),
  },
  { weight: 1, arbitrary: printable(80) },
)

/** For each body member, values a client might plausibly send. */
const PLAUSIBLE: Record<string, fc.Arbitrary<unknown>> = {
  email: fc.oneof(fc.emailAddress(), fc.constant('fuzz-seed@example.com'), printable()),
  user_id: fc.oneof(fc.uuid(), fc.constant(seedUserId), fc.constant(seedUserId.toUpperCase())),
  redirect_to: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('/after', 'https://app.example.test/x') },
    { weight: 1, arbitrary: fc.constantFrom('//evil.example', '/\\evil', 'javascript:x') },
    { weight: 1, arbitrary: fc.webPath() },
    { weight: 1, arbitrary: fc.webUrl() },
  ),
  ttl_seconds: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 3600 }) },
    { weight: 1, arbitrary: fc.integer({ min: -10, max: 700_000 }) },
  ),
  scope: fc.oneof(fc.constantFrom('files:read', 'invoice:42'), printable(20)),
  one_time: fc.boolean(),
  deliver: fc.constantFrom('email', 'none'),
  create_user: fc.boolean(),
  bind_ip: fc.oneof(fc.ipV4(), fc.ipV6(), printable(12)),
  token: tokenLike,
  ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('203.0.113.7')),
  consume: fc.boolean(),
  refresh_token: fc.oneof(
    fc.constant(seedSession.refresh_token),
    mutated(seedSession.refresh_token),
    tokenLike,
  ),
  jwt: fc.oneof(fc.constant(seedSession.jwt), mutated(seedSession.jwt), printable(120)),
  code: printable(),
}
const FIELDS = Object.keys(PLAUSIBLE)

/** null most of the time, a value from `arb` once in eight. */
const rarely = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb })

/** A plausible value most of the time, anything at all otherwise. */
const valueFor = (field: string) =>
  fc.oneof(
    { weight: 7, arbitrary: PLAUSIBLE[field] as fc.Arbitrary<unknown> },
    { weight: 1, arbitrary: fc.anything() },
  )

/**
 * An object with every `required` member and at most two of the `optional` ones, sometimes with
 * one stray member from another route: few enough that many requests pass validation.
 */
const membersOf = (required: readonly string[], optional: readonly string[] = []) =>
  fc
    .tuple(
      fc.tuple(...required.map((f) => valueFor(f).map((v) => [f, v] as const))),
      fc
        .subarray([...optional], { maxLength: Math.min(2, optional.length) })
        .chain((fields) => fc.tuple(...fields.map((f) => valueFor(f).map((v) => [f, v] as const)))),
      rarely(fc.constantFrom(...FIELDS).chain((f) => fc.tuple(fc.constant(f), valueFor(f)))),
    )
    .map(([req, opt, stray]) => Object.fromEntries([...req, ...opt, ...(stray ? [stray] : [])]))

// Valid percent-encoding only, and segments short enough for the router's parameter limit: a
// broken escape or an over-long parameter is answered by Fastify before our handlers, and
// test/http/problems.test.ts ('malformed URLs') holds that case on its own.
const segment = fc
  .string({ unit: 'grapheme', maxLength: 12 })
  .map(encodeURIComponent)
  .filter((s) => s.length <= 100)

const userId = fc.oneof(fc.uuid(), fc.constant(seedUserId), segment)

const usersQuery = fc
  .record(
    {
      email: fc.oneof(printable(), fc.emailAddress(), fc.constant('FUZZ-seed@EXAMPLE.com')),
      limit: fc.oneof(fc.integer({ min: -5, max: 300 }).map(String), printable(5)),
      other: printable(8),
    },
    { requiredKeys: [] },
  )
  .map((q) => `?${new URLSearchParams(q)}`)

const LINK_OPTIONS = [
  'redirect_to',
  'ttl_seconds',
  'scope',
  'one_time',
  'deliver',
  'create_user',
  'bind_ip',
]

interface Endpoint {
  method: InjectOptions['method']
  url: string
  body?: Record<string, unknown>
}

/** The real routes with their own method, parameters and members. */
const endpoint: fc.Arbitrary<Endpoint> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        // Exactly one of email and user_id, mostly: both or neither is one mistake among many.
        { weight: 4, arbitrary: membersOf(['email'], LINK_OPTIONS) },
        { weight: 2, arbitrary: membersOf(['user_id'], LINK_OPTIONS) },
        { weight: 1, arbitrary: membersOf([], ['email', 'user_id', ...LINK_OPTIONS]) },
      )
      .map((body) => ({ method: 'POST' as const, url: '/v1/links', body })),
  },
  {
    weight: 3,
    arbitrary: membersOf(['token'], ['scope', 'redirect_to', 'ip', 'consume']).map((body) => ({
      method: 'POST' as const,
      url: '/v1/links/verify',
      body,
    })),
  },
  membersOf(['refresh_token']).map((body) => ({
    method: 'POST' as const,
    url: '/v1/sessions/refresh',
    body,
  })),
  membersOf(['jwt']).map((body) => ({
    method: 'POST' as const,
    url: '/v1/sessions/introspect',
    body,
  })),
  membersOf([], ['code']).map((body) => ({
    method: 'POST' as const,
    url: '/v1/sessions/exchange',
    body,
  })),
  usersQuery.map((q) => ({ method: 'GET' as const, url: `/v1/admin/users${q}` })),
  fc
    .tuple(fc.constantFrom('GET', 'DELETE'), userId)
    .map(([method, id]) => ({ method, url: `/v1/admin/users/${id}` })),
  fc
    .tuple(fc.constantFrom('revoke', 'disable', 'enable'), userId)
    .map(([action, id]) => ({ method: 'POST' as const, url: `/v1/admin/users/${id}/${action}` })),
  fc
    .constantFrom('/.well-known/jwks.json', '/healthz', '/readyz', '/docs/json')
    .map((url) => ({ method: 'GET' as const, url })),
)

const anyPath = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...ROUTES) },
      { weight: 1, arbitrary: userId.map((id) => `/v1/admin/users/${id}`) },
      { weight: 1, arbitrary: fc.webPath().filter((p) => p.startsWith('/')) },
      { weight: 1, arbitrary: fc.array(segment, { maxLength: 4 }).map((s) => `/${s.join('/')}`) },
    ),
    fc.oneof(
      fc.constant(''),
      fc.webQueryParameters().map((q) => `?${q}`),
      usersQuery,
    ),
  )
  .map(([p, q]) => `${p}${q}`)

const anyBody = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  membersOf([], FIELDS).map((o) => JSON.stringify(o)),
  fc
    .tuple(membersOf([], FIELDS), fc.dictionary(printable(12), fc.jsonValue(), { maxKeys: 2 }))
    .map(([o, extra]) => JSON.stringify({ ...extra, ...o })),
)

const authorization = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.constant(asService.authorization) },
  { weight: 4, arbitrary: fc.constant(asAdmin.authorization) },
  { weight: 1, arbitrary: printable() },
  { weight: 1, arbitrary: printable().map((s) => `Bearer ${s}`) },
)

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'APPLICATION/JSON',
      'application/problem+json',
      'text/plain',
      'text/html',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
    ),
  },
  { weight: 1, arbitrary: printable() },
)

// Headers the transport itself depends on are left to light-my-request.
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade'])
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !FRAMING.has(n))
const extraHeaders = fc.oneof(
  fc.constant({}),
  fc.dictionary(headerName, printable(), { maxKeys: 3 }),
  fc.record(
    {
      host: fc.oneof(fc.domain(), printable()),
      'x-forwarded-host': fc.domain(),
      'x-forwarded-for': printable(),
      cookie: printable(),
      accept: fc.constantFrom('*/*', 'text/html', 'application/json', 'application/problem+json'),
    },
    { requiredKeys: [] },
  ),
)

/** A well-aimed request: a real route with its method, usually its own members. */
const aimed = fc.tuple(endpoint, rarely(anyBody)).map(([e, replacement]) => ({
  method: e.method,
  url: e.url,
  body: replacement !== null ? replacement : e.body && JSON.stringify(e.body),
}))

/** Anything: any method, any path, any body. */
const scattered = fc.record({ method: fc.constantFrom(...METHODS), url: anyPath, body: anyBody })

const request = fc
  .record({
    target: fc.oneof({ weight: 3, arbitrary: aimed }, { weight: 1, arbitrary: scattered }),
    authorization,
    contentType,
    extra: extraHeaders,
  })
  .map(({ target, authorization, contentType, extra }) => {
    const headers: Record<string, string> = { ...extra }
    if (authorization !== undefined) headers.authorization = authorization
    if (contentType !== undefined) headers['content-type'] = contentType
    const options: InjectOptions = { method: target.method, url: target.url, headers }
    if (target.body !== undefined) options.payload = target.body
    return options
  })

t.test('no request makes the service fail; every error is a problem document', async (t) => {
  // A fixed seed keeps the suite deterministic; FUZZ_SEED=<n> explores other inputs by hand.
  const seed = Number(process.env.FUZZ_SEED ?? 20300101)
  let errors = 0
  let successes = 0
  await fc.assert(
    fc.asyncProperty(request, async (options) => {
      const res = await app.inject(options)
      const where = `${options.method} ${options.url} → ${res.statusCode} ${res.body.slice(0, 200)}`
      if (res.statusCode >= 500) throw new Error(`server error: ${where}`)
      if (res.statusCode < 300) successes++
      if (res.statusCode >= 400) {
        errors++
        const type = String(res.headers['content-type'])
        // The hosted pages answer people in HTML (a method they do not serve still gets the
        // generic problem); everything else answers programs.
        const page = /^\/(login|logout)(\/|\?|$)/.test(String(options.url ?? ''))
        const expected = page ? 'text/html or application/problem+json' : 'application/problem+json'
        const ok =
          type.startsWith('application/problem+json') || (page && type.startsWith('text/html'))
        if (!ok) {
          throw new Error(`not ${expected} (${type}): ${where}`)
        }
        if (options.method !== 'HEAD' && type.startsWith('application/problem+json')) {
          const problem = res.json()
          if (problem.status !== res.statusCode || typeof problem.code !== 'string') {
            throw new Error(`incomplete problem: ${where}`)
          }
        }
      }
      const pathname = String(options.url).split('?')[0] ?? ''
      if (pathname.startsWith('/v1/') && res.headers['cache-control'] !== 'no-store') {
        throw new Error(`a /v1 answer without no-store: ${where}`)
      }
    }),
    { numRuns: 400, seed },
  )
  t.ok(errors > 0, `the runs reached error answers (${errors})`)
  t.ok(successes > 0, `and successful ones (${successes})`)
  const health = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(health.statusCode, 200, 'the app is still ready after the runs')
})
