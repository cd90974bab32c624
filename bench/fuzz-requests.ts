/**
 * The hostile requests of `npm run fuzz`, as fast-check arbitraries over every route of the
 * service (openapi.yaml and the hosted pages) and around them: methods a route does not serve,
 * unknown and traversal-shaped paths, hostile query strings and headers (authorization, cookies,
 * content types, Accept-Language …), bodies shaped like each route's schema with wrong types,
 * huge and unicode strings and deep nesting, bytes that are not JSON, form bodies for the pages,
 * and tokens that are almost valid (truncated, a bit flipped, expired, another key id, the right
 * MAC for another purpose). A few in a hundred are raw bytes on a connection of their own, which
 * an HTTP client would refuse to send: control bytes, obsolete folding, lying Content-Length,
 * both Content-Length and Transfer-Encoding, broken chunks.
 *
 * Values the service handed out during the run (a link just issued, a session just opened) are
 * used through placeholders (HARVEST), which the sender fills in just before sending, so the
 * requests reach past the MAC into the use cases without the arbitraries depending on answers.
 */
import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import {
  asHeaderValue,
  formBody,
  hostileContentType,
  hostileEmail,
  hostileHeaders,
  hostilePath,
  hostileQuery,
  hostileString,
  spliced,
} from '../test/helpers/hostile.js'

/** One request: sent by an HTTP client on a kept-alive connection, or as `raw` bytes alone. */
export interface FuzzRequest {
  method: string
  /** The request target (path and query) as sent. */
  path: string
  headers: Record<string, string>
  body?: Buffer | undefined
  /** The whole request as bytes, on a connection of its own (Connection: close). */
  raw?: Buffer | undefined
}

/** What the arbitraries are built from: keys and tokens of the running service. */
export interface Material {
  serviceKey: string
  adminKey: string
  publicUrl: string
  userIds: string[]
  emails: string[]
  /** Real tokens of every purpose, and near misses made with the service's own key ring. */
  tokens: string[]
  /** A CSRF cookie (name=value) and its form token, from GET /login. */
  csrf: { cookie: string; token: string }
  webhookSecret: string
}

/** Placeholders filled by the sender with what the service handed out during the run. */
export const HARVEST = {
  link: '@@harvest-link@@',
  refresh: '@@harvest-refresh@@',
  jwt: '@@harvest-jwt@@',
  session: '@@harvest-session@@',
  user: '@@harvest-user@@',
} as const

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const
const ODD_METHODS = ['PROPFIND', 'FOO', 'TRACE', 'CONNECT', 'get', 'M-SEARCH']

/** Every path the service serves, with a stand-in for parameters. */
const ROUTES = [
  '/healthz',
  '/readyz',
  '/metrics',
  '/docs',
  '/docs/json',
  '/docs/static/index.html',
  '/.well-known/jwks.json',
  '/v1/links',
  '/v1/links/verify',
  '/v1/codes/verify',
  '/v1/sessions/refresh',
  '/v1/sessions/end',
  '/v1/sessions/exchange',
  '/v1/sessions/introspect',
  '/v1/revocations',
  '/v1/webhooks/resend',
  '/v1/admin/users',
  '/v1/admin/users/:id',
  '/v1/admin/users/:id/revoke',
  '/v1/admin/users/:id/disable',
  '/v1/admin/users/:id/enable',
  '/v1/admin/users/:id/sessions',
  '/v1/admin/sessions/:id',
  '/v1/admin/outbox',
  '/v1/admin/suppressions',
  '/v1/admin/suppressions/:email',
  '/v1/admin/audit',
  '/v1/admin/stats/link-views',
  '/login',
  '/login/code',
  '/login/link',
  '/login/resend',
  '/login/report',
  '/logout',
  '/assets/latchkey.css',
  '/favicon.ico',
  '/',
]

const TRAVERSAL = [
  '/../../etc/passwd',
  '/v1/../v1/links',
  '/v1/links/..%2f..%2fadmin',
  '/%2e%2e/%2e%2e/',
  '/v1//links',
  '//v1/links',
  '/v1/links/',
  '/v1/links?',
  '/V1/LINKS',
  '/login/..;/admin',
  '/assets/..%2f..%2fpackage.json',
  '/assets/%00',
  '/v1/admin/users/%2e%2e',
  '/.well-known/../healthz',
  '/docs/static/../../package.json',
  '/%',
  '/%zz',
  `/${'a'.repeat(3000)}`,
  `/v1/admin/users/${'9'.repeat(500)}`,
]

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** encodeURIComponent, for text that may hold a lone surrogate (which it refuses). */
const encode = (s: string) => encodeURIComponent(s.replace(LONE_SURROGATE, '\ufffd'))

const printable = (maxLength = 40) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength,
  })

/** A huge string: past field limits, near or past the body limits. */
const huge = fc
  .tuple(
    fc.constantFrom('a', 'é', '😀', '\u0000', '"', '\\', '<x>'),
    fc.integer({ min: 300, max: 70_000 }),
  )
  .map(([unit, n]) => unit.repeat(n))

/** A JSON value nested deeper than any schema expects. */
const deep = fc
  .tuple(fc.integer({ min: 10, max: 5000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => {
    const close = open === '[' ? ']' : '}'
    return `${open.repeat(depth)}1${close.repeat(depth)}`
  })

/** Tokens: real ones, harvested ones, and every near miss of them. */
const tokenOf = (m: Material) => {
  const real = fc.constantFrom(...m.tokens)
  return fc.oneof(
    { weight: 4, arbitrary: real },
    { weight: 3, arbitrary: fc.constant(HARVEST.link) },
    { weight: 2, arbitrary: real.chain(flipped) },
    { weight: 1, arbitrary: real.chain(truncated) },
    { weight: 1, arbitrary: real.chain((t) => spliced(t)) },
    {
      weight: 1,
      arbitrary: fc
        .base64String({ minLength: 60, maxLength: 68 })
        .map((b) => b.replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')),
    },
    { weight: 1, arbitrary: hostileString(80) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', ' ', 'null', '0', 'a'.repeat(64), `${'A'.repeat(63)}=`),
    },
  )
}

/** A bit flipped somewhere in the token's bytes: a MAC, a field, the version. */
const flipped = (token: string) =>
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(([at, bit]) => {
    const bytes = Buffer.from(token, 'base64url')
    if (bytes.length === 0) return token
    const i = at % bytes.length
    bytes[i] = (bytes[i] as number) ^ (1 << bit)
    return bytes.toString('base64url')
  })

const truncated = (token: string) =>
  fc.nat({ max: Math.max(0, token.length - 1) }).map((n) => token.slice(0, n))

const jwtOf = (m: Material) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(HARVEST.jwt) },
    { weight: 1, arbitrary: fc.constant(HARVEST.jwt).map((j) => `${j}x`) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), printable(40))
        .map(([h, p, s]) =>
          [JSON.stringify(h), JSON.stringify(p), s]
            .map((x) => Buffer.from(x).toString('base64url'))
            .join('.'),
        ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        'a.b.c',
        '...',
        'eyJ.eyJ.',
        `${Buffer.from('{"alg":"HS256","typ":"at+jwt","kid":"soak-key"}').toString('base64url')}.e30.x`,
      ),
    },
    { weight: 1, arbitrary: tokenOf(m) },
    { weight: 1, arbitrary: hostileString(200) },
  )

const uuidLike = (m: Material) =>
  fc.oneof(
    fc.constantFrom(...m.userIds),
    fc.constant(HARVEST.user),
    fc.constant(HARVEST.session),
    fc.uuid(),
    fc.constantFrom(...m.userIds).map((u) => u.toUpperCase()),
    fc.constantFrom(...m.userIds).chain((u) => spliced(u)),
    printable(40),
  )

/** For each body member of the API, plausible values and near misses. */
const members = (m: Material): Record<string, fc.Arbitrary<unknown>> => ({
  email: fc.oneof(fc.constantFrom(...m.emails), fc.emailAddress(), hostileEmail, huge),
  user_id: uuidLike(m),
  session_id: uuidLike(m),
  redirect_to: fc.oneof(fc.constantFrom('/after', 'https://app.soak.test/x'), hostilePath, huge),
  ttl_seconds: fc.oneof(
    fc.integer({ min: -10, max: 700_000 }),
    fc.constantFrom(0, 1, 3600, 3601, 2 ** 31, 2 ** 53, -0, 1.5, Number.MAX_SAFE_INTEGER),
  ),
  scope: fc.oneof(fc.constantFrom('files:read', 'invoice:42'), hostileString(), huge),
  one_time: fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1)),
  deliver: fc.oneof(fc.constantFrom('none', 'none', 'email'), printable(8)),
  create_user: fc.oneof(fc.boolean(), fc.constant('false')),
  bind_ip: fc.oneof(fc.ipV4(), fc.ipV6(), printable(12), hostileString()),
  locale: fc.oneof(
    fc.constantFrom('en', 'fr', 'de', 'he', 'ja', 'xx', 'fr-CH', ''),
    hostileString(12),
  ),
  token: tokenOf(m),
  ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('203.0.113.7'), hostileString()),
  user_agent: fc.oneof(printable(80), hostileString(), huge),
  consume: fc.oneof(fc.boolean(), fc.constant('yes')),
  refresh_token: fc.oneof(
    { weight: 3, arbitrary: fc.constant(HARVEST.refresh) },
    { weight: 2, arbitrary: tokenOf(m) },
    { weight: 1, arbitrary: fc.constant(HARVEST.refresh).map((r) => r.slice(0, 10)) },
  ),
  jwt: jwtOf(m),
  code: fc.oneof(
    printable(12),
    fc.stringMatching(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/),
    hostileString(),
    huge,
  ),
})

/** null seven times in eight, a value otherwise. */
const rarely = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb })

/**
 * A JSON body with every `required` member and some `optional` ones, each plausible most of the
 * time and anything at all otherwise; sometimes a stray member, a prototype key, or a number
 * where a string belongs.
 */
const jsonBody = (m: Material, required: readonly string[], optional: readonly string[]) => {
  const all = members(m)
  const value = (field: string) =>
    fc.oneof(
      { weight: 8, arbitrary: all[field] ?? fc.anything() },
      { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(null, 0, -1, true, [], {}, Number.POSITIVE_INFINITY, ''),
      },
    )
  return fc
    .tuple(
      fc.tuple(...required.map((f) => value(f).map((v) => [f, v] as const))),
      fc
        .subarray([...optional], { maxLength: Math.min(3, optional.length) })
        .chain((fields) => fc.tuple(...fields.map((f) => value(f).map((v) => [f, v] as const)))),
      rarely(
        fc.oneof(
          fc.tuple(
            fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString'),
            fc.anything(),
          ),
          fc.tuple(printable(12), fc.jsonValue({ maxDepth: 2 })),
        ),
      ),
    )
    .map(([req, opt, stray]) => {
      const body: Record<string, unknown> = {}
      for (const [k, v] of [...req, ...opt]) body[k] = v
      let text = JSON.stringify(body, (_k, v) => (v === undefined ? null : v))
      if (stray)
        text = text.replace(
          /^\{/,
          `{${JSON.stringify(stray[0])}:${JSON.stringify(stray[1] ?? null)}${text === '{}' ? '' : ','}`,
        )
      return text
    })
}

/** The API routes, each with its method, the key it takes and a body or query of its own. */
const apiCall = (m: Material) => {
  const post = (path: string, required: string[], optional: string[] = []) =>
    jsonBody(m, required, optional).map((body) => ({ method: 'POST', path, body, key: 'service' }))
  const get = (path: string, query: fc.Arbitrary<string>, key: 'service' | 'admin' | 'none') =>
    query.map((q) => ({
      method: 'GET',
      path: `${path}${q}`,
      body: undefined as string | undefined,
      key,
    }))
  const id = uuidLike(m).map((s) => encode(String(s)))
  const LINK = [
    'redirect_to',
    'ttl_seconds',
    'scope',
    'one_time',
    'deliver',
    'create_user',
    'bind_ip',
    'locale',
  ]
  const query = (names: string[]) =>
    fc.oneof(
      fc
        .dictionary(
          fc.constantFrom(...names),
          fc.oneof(printable(12), fc.integer({ min: -5, max: 2000 }).map(String), fc.uuid()),
          { maxKeys: 3 },
        )
        .map((q) => (Object.keys(q).length ? `?${new URLSearchParams(q)}` : '')),
      hostileQuery(names),
    )
  return fc.oneof(
    { weight: 4, arbitrary: post('/v1/links', ['email'], LINK) },
    { weight: 2, arbitrary: post('/v1/links', ['user_id'], LINK) },
    { weight: 1, arbitrary: post('/v1/links', [], ['email', 'user_id', ...LINK]) },
    {
      weight: 5,
      arbitrary: post(
        '/v1/links/verify',
        ['token'],
        ['scope', 'redirect_to', 'ip', 'user_agent', 'consume'],
      ),
    },
    { weight: 2, arbitrary: post('/v1/codes/verify', ['email', 'code'], ['ip', 'user_agent']) },
    { weight: 3, arbitrary: post('/v1/sessions/refresh', ['refresh_token']) },
    { weight: 1, arbitrary: post('/v1/sessions/end', [], ['refresh_token', 'session_id']) },
    { weight: 1, arbitrary: post('/v1/sessions/exchange', [], ['code']) },
    { weight: 3, arbitrary: post('/v1/sessions/introspect', ['jwt']) },
    {
      weight: 1,
      arbitrary: jwtOf(m).chain((jwt) =>
        formBody({ token: jwt }).map((body) => ({
          method: 'POST',
          path: '/v1/sessions/introspect',
          body,
          key: 'form',
        })),
      ),
    },
    { weight: 1, arbitrary: get('/v1/revocations', query(['after', 'limit']), 'service') },
    { weight: 1, arbitrary: get('/.well-known/jwks.json', query(['x']), 'none') },
    { weight: 1, arbitrary: get('/v1/admin/users', query(['email', 'after', 'limit']), 'admin') },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom('GET', 'DELETE', 'GET', 'GET'),
          id,
          fc.constantFrom('', '/sessions', '/sessions?limit=500'),
        )
        .map(([method, u, rest]) => ({
          method,
          path: `/v1/admin/users/${u}${method === 'GET' ? rest : ''}`,
          body: undefined,
          key: 'admin',
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('revoke', 'disable', 'enable', 'enable'), id)
        .map(([action, u]) => ({
          method: 'POST',
          path: `/v1/admin/users/${u}/${action}`,
          body: undefined,
          key: 'admin',
        })),
    },
    {
      weight: 1,
      arbitrary: id.map((s) => ({
        method: 'DELETE',
        path: `/v1/admin/sessions/${s}`,
        body: undefined,
        key: 'admin',
      })),
    },
    {
      weight: 1,
      arbitrary: get(
        '/v1/admin/outbox',
        query(['status', 'kind', 'user_id', 'before', 'limit']),
        'admin',
      ),
    },
    { weight: 1, arbitrary: get('/v1/admin/suppressions', query(['after', 'limit']), 'admin') },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('GET', 'DELETE'), members(m).email as fc.Arbitrary<string>)
        .map(([method, e]) => ({
          method,
          path: `/v1/admin/suppressions/${encode(String(e)).slice(0, 400)}`,
          body: undefined,
          key: 'admin',
        })),
    },
    {
      weight: 1,
      arbitrary: get('/v1/admin/audit', query(['user_id', 'type', 'before', 'limit']), 'admin'),
    },
    {
      weight: 1,
      arbitrary: get('/v1/admin/stats/link-views', query(['since', 'until', 'limit']), 'admin'),
    },
    { weight: 1, arbitrary: get('/metrics', fc.constant(''), 'admin') },
    { weight: 1, arbitrary: get('/healthz', query(['x']), 'none') },
    { weight: 1, arbitrary: get('/readyz', fc.constant(''), 'none') },
  )
}

/** Authorization as sent with an API call: mostly the right key, sometimes anything but. */
const authorization = (m: Material, key: string) => {
  const right = key === 'admin' ? m.adminKey : m.serviceKey
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(`Bearer ${right}`) },
    { weight: 1, arbitrary: fc.constant(`Bearer ${key === 'admin' ? m.serviceKey : m.adminKey}`) },
    { weight: 1, arbitrary: fc.constantFrom('bearer', 'BEARER').map((s) => `${s} ${right}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: spliced(`Bearer ${right}`).map(asHeaderValue) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'Basic Zm9vOmJhcg==',
        'Bearer',
        'Bearer ',
        `Bearer ${right}, Bearer x`,
        `Bearer ${right.slice(0, -1)}`,
      ),
    },
    { weight: 1, arbitrary: hostileString(60).map(asHeaderValue) },
  )
}

/** A hosted page, as a browser sends it from our own page, or anything near it. */
const pageCall = (m: Material) => {
  const fields = fc.record(
    {
      csrf: fc.oneof(
        { weight: 5, arbitrary: fc.constant(m.csrf.token) },
        { weight: 1, arbitrary: hostileString() },
      ),
      token: tokenOf(m),
      next: fc.oneof(hostilePath, fc.constant('/after')),
      email: fc.oneof(fc.constantFrom(...m.emails), hostileEmail),
      code: fc.oneof(printable(10), hostileString()),
      elsewhere: fc.constantFrom('confirmed', 'no'),
      end_sessions: fc.constantFrom('1', ''),
    },
    { requiredKeys: ['csrf'] },
  )
  const post = fc
    .tuple(
      fc.constantFrom(
        '/login',
        '/login/code',
        '/login/link',
        '/login/resend',
        '/login/report',
        '/logout',
      ),
      fields,
    )
    .chain(([path, f]) =>
      formBody(f).map((body) => ({
        method: 'POST',
        path,
        body,
        headers: {
          cookie: m.csrf.cookie,
          'sec-fetch-site': 'same-origin',
          origin: m.publicUrl,
          'content-type': 'application/x-www-form-urlencoded',
        } as Record<string, string>,
      })),
    )
  const open = fc
    .tuple(
      fc.constantFrom('GET', 'GET', 'HEAD'),
      fc.constantFrom('/login', '/login/link', '/login/report', '/logout', '/assets/latchkey.css'),
      fc.oneof(
        tokenOf(m).map((t) => `?token=${encode(t)}`),
        tokenOf(m).map((t) => `?token=${encode(t)}&next=%2Fafter`),
        hostileQuery(['next', 'token', 'email', 'csrf']),
      ),
    )
    .map(([method, path, q]) => ({
      method,
      path: `${path}${q}`,
      body: undefined as string | undefined,
      headers: {} as Record<string, string>,
    }))
  return fc.oneof({ weight: 3, arbitrary: post }, { weight: 2, arbitrary: open })
}

/** A resend callback: signed right (so the use case parses it), or with a bad signature. */
const webhookCall = (m: Material) => {
  const secret = Buffer.from(m.webhookSecret.replace(/^whsec_/, ''), 'base64')
  const payload = fc.oneof(
    fc
      .record({
        type: fc.constantFrom(
          'email.bounced',
          'email.complained',
          'email.delivered',
          'email.delivery_delayed',
          'x',
        ),
        created_at: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          printable(10),
        ),
        data: fc.record(
          {
            email_id: fc.oneof(fc.uuid(), printable(20)),
            to: fc.oneof(fc.array(fc.constantFrom(...m.emails), { maxLength: 2 }), fc.anything()),
            bounce: fc.record(
              { type: fc.constantFrom('Permanent', 'Transient', 'x') },
              { requiredKeys: [] },
            ),
            tags: fc.anything(),
          },
          { requiredKeys: [] },
        ),
      })
      .map((p) => JSON.stringify(p)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    hostileString(200),
  )
  return fc
    .tuple(
      payload,
      fc.uuid(),
      fc.integer({ min: -1000, max: 1000 }),
      fc.constantFrom('good', 'good', 'bad', 'none'),
    )
    .map(([body, id, skew, how]) => {
      const timestamp = String(Math.floor(Date.now() / 1000) + skew)
      const signature = createHmac('sha256', secret)
        .update(`${id}.${timestamp}.${body}`)
        .digest('base64')
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'svix-id': id,
        'svix-timestamp': timestamp,
      }
      if (how === 'good') headers['svix-signature'] = `v1,${signature}`
      if (how === 'bad') headers['svix-signature'] = `v1,${signature.slice(1)}A`
      return { method: 'POST', path: '/v1/webhooks/resend', body, headers }
    })
}

/** Any method, any path, any body: around the routes rather than at them. */
const scattered = () =>
  fc.record({
    method: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...METHODS) },
      { weight: 1, arbitrary: fc.constantFrom(...ODD_METHODS) },
    ),
    path: fc
      .tuple(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...ROUTES) },
          { weight: 2, arbitrary: fc.constantFrom(...TRAVERSAL) },
          { weight: 1, arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)) },
          { weight: 1, arbitrary: hostilePath.map((p) => (p.startsWith('/') ? p : `/${p}`)) },
        ),
        fc.oneof(
          fc.constant(''),
          fc.webQueryParameters().map((q) => `?${q}`),
          hostileQuery(['next', 'token', 'limit', 'email']),
        ),
      )
      .map(([p, q]) => `${p}${q}`),
    body: fc.oneof(
      fc.constant(undefined),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      deep,
      huge,
      hostileString(300),
    ),
    headers: fc.constant({} as Record<string, string>),
  })

const FRAMING = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'expect',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
])

/** Every request of the fuzz, as it goes on the wire. */
export function fuzzRequest(m: Material): fc.Arbitrary<FuzzRequest> {
  const api = apiCall(m).chain((call) =>
    fc
      .tuple(
        call.key === 'none' || call.key === 'form'
          ? fc.constant(call.key === 'form' ? `Bearer ${m.serviceKey}` : undefined)
          : authorization(m, call.key),
        hostileContentType(
          call.key === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
        ),
        rarely(
          fc.oneof(
            deep,
            huge,
            fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
          ),
        ),
      )
      .map(([auth, type, replaced]) => {
        const headers: Record<string, string> = {}
        if (auth !== undefined) headers.authorization = auth
        const body = replaced ?? call.body
        if (type !== undefined && body !== undefined) headers['content-type'] = type
        return { method: call.method, path: call.path, body, headers }
      }),
  )
  const aimed = fc.oneof(
    { weight: 8, arbitrary: api },
    { weight: 4, arbitrary: pageCall(m) },
    { weight: 1, arbitrary: webhookCall(m) },
  )
  const extra = fc.oneof(
    { weight: 2, arbitrary: fc.constant({} as Record<string, string>) },
    { weight: 2, arbitrary: hostileHeaders() as fc.Arbitrary<Record<string, string>> },
    {
      weight: 1,
      arbitrary: fc.dictionary(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !FRAMING.has(n)),
        printable(60),
        { maxKeys: 3 },
      ),
    },
  )
  const http = fc
    .tuple(fc.oneof({ weight: 5, arbitrary: aimed }, { weight: 2, arbitrary: scattered() }), extra)
    .map(([r, more]): FuzzRequest => {
      const headers: Record<string, string> = {}
      // The route's own headers win over the hostile ones, which add to them.
      for (const [name, value] of Object.entries({ ...more, ...r.headers })) {
        if (value !== undefined && !FRAMING.has(name)) headers[name] = asHeaderValue(value)
      }
      return {
        method: r.method,
        path: onTheWire(r.path),
        headers,
        body: r.body === undefined ? undefined : Buffer.from(r.body, 'utf8'),
      }
    })
  return fc.oneof({ weight: 50, arbitrary: http }, { weight: 1, arbitrary: rawRequest(m) })
}

/**
 * A target as an HTTP client sends it: the UTF-8 bytes of what it holds (a raw byte above 0x7f
 * is what a careless client sends), with controls and spaces percent-encoded (no client can send
 * them).
 */
function onTheWire(path: string): string {
  return (
    Buffer.from(path, 'utf8')
      .toString('latin1')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: encoding them is the point
      .replace(/[\x00-\x20]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  )
}

/** Raw bytes: what an HTTP client refuses to send, on a connection of its own. */
const rawRequest = (m: Material): fc.Arbitrary<FuzzRequest> =>
  fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'HEAD', 'FOO', 'G\u0000T', ''),
      path: fc.oneof(
        fc.constantFrom(...ROUTES, ...TRAVERSAL),
        hostileString(40).map((s) => `/${s}`),
      ),
      headers: fc.array(
        fc.tuple(
          fc.constantFrom(
            'Authorization',
            'Cookie',
            'Content-Type',
            'X-Request-Id',
            'Accept-Language',
            'X-Forwarded-For',
            'Origin',
            'Bad Name',
            '',
          ),
          fc.oneof(
            hostileString(40),
            fc.constant(`Bearer ${m.serviceKey}`),
            fc.constant('a\r\n b'),
          ),
        ),
        { maxLength: 4 },
      ),
      framing: fc.constantFrom(
        'length',
        'short',
        'long',
        'both',
        'chunked',
        'bad-chunk',
        'none',
        'http10',
        'no-host',
      ),
      body: fc.oneof(
        hostileString(100),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      ),
    })
    .map(({ method, path, headers, framing, body }) => {
      const bytes = Buffer.from(body, 'utf8')
      const lines = [`${method} ${path} ${framing === 'http10' ? 'HTTP/1.0' : 'HTTP/1.1'}`]
      if (framing !== 'no-host') lines.push('Host: login.soak.test')
      for (const [name, value] of headers) lines.push(`${name}: ${value}`)
      let payload: Buffer = bytes
      if (framing === 'length' || framing === 'http10')
        lines.push(`Content-Length: ${bytes.length}`)
      if (framing === 'short') lines.push(`Content-Length: ${Math.max(0, bytes.length - 3)}`)
      // More announced than sent: the connection is closed after the bytes, so the server sees
      // the end of the stream rather than waiting out its request timeout.
      if (framing === 'long') lines.push(`Content-Length: ${bytes.length + 10}`)
      if (framing === 'both')
        lines.push(`Content-Length: ${bytes.length}`, 'Transfer-Encoding: chunked')
      if (framing === 'chunked' || framing === 'bad-chunk') {
        lines.push('Transfer-Encoding: chunked')
        const size = framing === 'chunked' ? bytes.length.toString(16) : 'zz'
        payload = Buffer.concat([Buffer.from(`${size}\r\n`), bytes, Buffer.from('\r\n0\r\n\r\n')])
      }
      if (framing === 'none') payload = Buffer.alloc(0)
      lines.push('Connection: close', '', '')
      const head = Buffer.from(lines.join('\r\n'), 'utf8')
      return {
        method,
        path,
        headers: Object.fromEntries(headers),
        raw: Buffer.concat([head, payload]),
      }
    })
