import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { adminKey, asAdmin, asService, build, serviceKey, tokenOf } from '../helpers/app.js'
import {
  answerProblems,
  FUZZ_ENV,
  failIf,
  Routes,
  requestIdProblems,
} from '../helpers/fuzz-checks.js'
import {
  asHeaderValue,
  hostileContentType,
  hostileEmail,
  hostileHeaders,
  hostilePath,
  hostileQuery,
  hostileString,
  spliced,
  UNPRINTABLE,
} from '../helpers/hostile.js'

// One app for every run: state piles up (users, used links) the way it does in production.
const harness = await build(t, { env: FUZZ_ENV })
const { app } = harness
const routes = new Routes(app)

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
  '/v1/admin/outbox',
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
  '/assets/latchkey.css',
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

/** For each body member, values a client might plausibly send, and hostile near misses. */
const PLAUSIBLE: Record<string, fc.Arbitrary<unknown>> = {
  email: fc.oneof(
    fc.emailAddress(),
    fc.constant('fuzz-seed@example.com'),
    printable(),
    hostileEmail,
  ),
  user_id: fc.oneof(
    fc.uuid(),
    fc.constant(seedUserId),
    fc.constant(seedUserId.toUpperCase()),
    spliced(seedUserId),
  ),
  redirect_to: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('/after', 'https://app.example.test/x') },
    { weight: 1, arbitrary: fc.constantFrom('//evil.example', '/\\evil', 'javascript:x') },
    { weight: 1, arbitrary: fc.webPath() },
    { weight: 1, arbitrary: fc.webUrl() },
    { weight: 3, arbitrary: hostilePath },
  ),
  ttl_seconds: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 3600 }) },
    { weight: 1, arbitrary: fc.integer({ min: -10, max: 700_000 }) },
  ),
  scope: fc.oneof(fc.constantFrom('files:read', 'invoice:42'), printable(20), hostileString()),
  one_time: fc.boolean(),
  deliver: fc.constantFrom('email', 'none'),
  create_user: fc.boolean(),
  bind_ip: fc.oneof(fc.ipV4(), fc.ipV6(), printable(12), hostileString()),
  token: fc.oneof(tokenLike, spliced(seedToken), hostileString()),
  ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('203.0.113.7'), hostileString()),
  consume: fc.boolean(),
  refresh_token: fc.oneof(
    fc.constant(seedSession.refresh_token),
    mutated(seedSession.refresh_token),
    spliced(seedSession.refresh_token),
    tokenLike,
    hostileString(),
  ),
  jwt: fc.oneof(
    fc.constant(seedSession.jwt),
    mutated(seedSession.jwt),
    spliced(seedSession.jwt),
    printable(120),
    hostileString(),
  ),
  code: fc.oneof(printable(), hostileString()),
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

const usersQuery = fc.oneof(
  fc
    .record(
      {
        email: fc.oneof(printable(), fc.emailAddress(), fc.constant('FUZZ-seed@EXAMPLE.com')),
        limit: fc.oneof(fc.integer({ min: -5, max: 300 }).map(String), printable(5)),
        other: printable(8),
      },
      { requiredKeys: [] },
    )
    .map((q) => `?${new URLSearchParams(q)}`),
  hostileQuery(['email', 'limit', 'after'], fc.oneof(hostileEmail, hostileString())),
)

const outboxQuery = fc.oneof(
  fc
    .record(
      {
        status: fc.constantFrom('pending', 'sent', 'failed', 'suppressed', 'SENT', ''),
        user_id: fc.oneof(fc.uuid(), fc.constant(seedUserId)),
        before: fc.uuid(),
        limit: fc.integer({ min: -5, max: 300 }).map(String),
      },
      { requiredKeys: [] },
    )
    .map((q) => `?${new URLSearchParams(q)}`),
  hostileQuery(['status', 'user_id', 'before', 'limit']),
)

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
  method: (typeof METHODS)[number]
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
  outboxQuery.map((q) => ({ method: 'GET' as const, url: `/v1/admin/outbox${q}` })),
  fc
    .tuple(fc.constantFrom('GET', 'DELETE'), userId)
    .map(([method, id]) => ({ method, url: `/v1/admin/users/${id}` })),
  fc
    .tuple(fc.constantFrom('revoke', 'disable', 'enable'), userId)
    .map(([action, id]) => ({ method: 'POST' as const, url: `/v1/admin/users/${id}/${action}` })),
  fc
    .tuple(
      fc.constantFrom('/.well-known/jwks.json', '/healthz', '/readyz', '/docs', '/docs/json'),
      hostileQuery(['next', 'token', 'x']),
    )
    .map(([path, q]) => ({ method: 'GET' as const, url: `${path}${q}` })),
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
      hostileQuery(['next', 'token', 'email', 'redirect_to', 'limit']),
    ),
  )
  .map(([p, q]) => `${p}${q}`)

const anyBody = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  hostileString(200),
  membersOf([], FIELDS).map((o) => JSON.stringify(o)),
  fc
    .tuple(membersOf([], FIELDS), fc.dictionary(printable(12), fc.jsonValue(), { maxKeys: 2 }))
    .map(([o, extra]) => JSON.stringify({ ...extra, ...o })),
)

const validKey = fc.constantFrom(serviceKey.key, adminKey.key)
const authorization = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.constant(asService.authorization) },
  { weight: 4, arbitrary: fc.constant(asAdmin.authorization) },
  { weight: 1, arbitrary: printable() },
  { weight: 1, arbitrary: printable().map((s) => `Bearer ${s}`) },
  // The scheme is case-insensitive (RFC 9110 11.1): any spelling of it with a valid key.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('bearer', 'BEARER', 'bEaReR'), validKey)
      .map(([scheme, key]) => `${scheme} ${key}`),
  },
  { weight: 1, arbitrary: validKey.chain((key) => spliced(`Bearer ${key}`)) },
)

const contentType = hostileContentType('application/json')

// Headers the transport itself depends on are left to light-my-request.
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade'])
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !FRAMING.has(n))
const extraHeaders = fc.oneof(
  fc.constant({}),
  fc.dictionary(headerName, printable(), { maxKeys: 3 }),
  hostileHeaders(),
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
  fields: replacement !== null ? undefined : e.body,
}))

/** Anything: any method, any path, any body. */
const scattered = fc.record({
  method: fc.constantFrom(...METHODS),
  url: anyPath,
  body: anyBody,
  fields: fc.constant(undefined),
})

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
    const options: InjectOptions & { method: string; url: string; headers: typeof headers } = {
      method: target.method,
      url: target.url,
      headers,
    }
    if (target.body !== undefined) options.payload = target.body
    return { options, fields: target.fields }
  })

/**
 * DESIGN requirement 16: an address that was accepted is stored without controls, invisible or
 * bidi characters, and in NFC, so two spellings that look alike are never two accounts.
 */
async function storedEmailProblems(userId: unknown): Promise<string[]> {
  const user = await app.inject({
    method: 'GET',
    url: `/v1/admin/users/${userId}`,
    headers: asAdmin,
  })
  // An unknown address with create_user false is answered like a known one, with a stand-in id.
  if (user.statusCode === 404) return []
  const email: unknown = user.json().email
  if (typeof email !== 'string') return [`the user of a 202 has no email (${user.statusCode})`]
  const found: string[] = []
  if (UNPRINTABLE.test(email)) found.push(`an invisible character stored: ${JSON.stringify(email)}`)
  if (email !== email.normalize('NFC')) found.push(`an address stored unnormalised: ${email}`)
  return found
}

/**
 * A request answered 202 "queued" gets its email, whatever it carried: the worker builds and
 * sends it (the test mailer never fails), so a failed message is one that could not be built.
 */
let failedBefore = 0
async function deliveryProblems(): Promise<string[]> {
  await app.outbox.runOnce()
  const outbox = await app.inject({
    method: 'GET',
    url: '/v1/admin/outbox?status=failed&limit=1',
    headers: asAdmin,
  })
  const { counts, messages } = outbox.json()
  if (counts.failed === failedBefore) return []
  failedBefore = counts.failed
  return [`an accepted email failed: ${messages[0]?.last_error}`]
}

t.test('no request makes the service fail; every error is a problem document', async (t) => {
  let errors = 0
  let successes = 0
  await fc.assert(
    fc.asyncProperty(request, async ({ options, fields }) => {
      const res = await app.inject(options)
      if (res.statusCode < 300) successes++
      if (res.statusCode >= 400) errors++
      const found = answerProblems(options, res, routes)
      if (res.statusCode === 202 && options.url.split('?')[0] === '/v1/links') {
        if (typeof fields?.email === 'string') {
          found.push(...(await storedEmailProblems(res.json().user_id)))
        }
        if (res.json().delivery === 'queued') found.push(...(await deliveryProblems()))
      }
      failIf(
        found,
        `${options.method} ${options.url} → ${res.statusCode} ${res.body.slice(0, 200)}`,
      )
    }),
    { numRuns: 400 },
  )
  t.ok(errors > 0, `the runs reached error answers (${errors})`)
  t.ok(successes > 0, `and successful ones (${successes})`)
  const health = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(health.statusCode, 200, 'the app is still ready after the runs')
})

t.test(
  'links with hostile targets and addresses are refused, or built, sent and stored',
  async (t) => {
    // The two input parsers of POST /v1/links (requirements 13 and 16) with every kind of text,
    // followed to what they produce: the link in the answer, the email, the stored address.
    const link = fc.record({
      email: fc.oneof(fc.emailAddress(), hostileEmail),
      redirect_to: fc.oneof(hostilePath, fc.constant(undefined)),
      deliver: fc.constantFrom('email', 'none'),
    })
    let built = 0
    await fc.assert(
      fc.asyncProperty(link, async (body) => {
        const options = {
          method: 'POST',
          url: '/v1/links',
          headers: { ...asService, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        } as const
        const res = await app.inject(options)
        const found = answerProblems(options, res, routes)
        if (res.statusCode === 202) {
          built++
          found.push(...(await storedEmailProblems(res.json().user_id)))
          if (res.json().delivery === 'queued') found.push(...(await deliveryProblems()))
        }
        failIf(found, `${JSON.stringify(body)} → ${res.statusCode} ${res.body.slice(0, 200)}`)
      }),
      { numRuns: 150 },
    )
    t.ok(built > 0, `some links were built (${built})`)
  },
)

t.test(
  'every answer names its request: a safe X-Request-Id is echoed, others replaced',
  async (t) => {
    const requestId = fc.oneof(
      fc.uuid(),
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
      hostileString(80).map(asHeaderValue),
      fc.constantFrom('', ' ', 'x'.repeat(2000), 'a,b', 'id\u00e9', '<x-fuzz>'),
    )
    const target = fc.constantFrom(
      { method: 'GET', url: '/healthz' },
      { method: 'GET', url: '/.well-known/jwks.json' },
      { method: 'GET', url: '/v1/admin/users?limit=1' },
      { method: 'POST', url: '/v1/sessions/introspect' },
      { method: 'GET', url: '/login' },
      { method: 'POST', url: '/logout' },
      { method: 'GET', url: '/nowhere' },
      { method: 'PUT', url: '/healthz' },
    )
    await fc.assert(
      fc.asyncProperty(target, fc.option(requestId, { freq: 6 }), async (to, id) => {
        const headers: Record<string, string> = { ...asAdmin }
        if (id !== null) headers['x-request-id'] = id
        const logged = harness.logs.length
        const res = await app.inject({ ...to, headers } as InjectOptions)
        const found = requestIdProblems(id ?? undefined, res)
        const answered = String(res.headers['x-request-id'])
        // The log names the same request, so a client's report finds its lines.
        if (!harness.logs.slice(logged).some((l) => l.includes(`:${JSON.stringify(answered)}`))) {
          found.push('the request id is not in the log')
        }
        failIf(found, `${to.method} ${to.url} ${JSON.stringify(id)} → ${JSON.stringify(answered)}`)
      }),
      { numRuns: 100 },
    )
    t.pass('every answer carried a request id')
  },
)
