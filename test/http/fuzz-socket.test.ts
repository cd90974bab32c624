import { createServer } from 'node:http'
import { connect } from 'node:net'
import fc from 'fast-check'
import t from 'tap'
import { asAdmin, asService, build, listenLocal } from '../helpers/app.js'
import {
  type Answer,
  answerProblems,
  FUZZ_ENV,
  failIf,
  PAGE_PATHS,
  Routes,
} from '../helpers/fuzz-checks.js'
import { hostileString, INVISIBLE } from '../helpers/hostile.js'

/**
 * Bytes app.inject cannot send: raw UTF-8 and latin1 in the request line and in header values,
 * control bytes, folded and oversized headers, a missing Host. Node's parser refuses some before
 * Fastify sees them, and those answers must be ours too (problem+json, no raw bytes back).
 */

const h = await build(t, { env: FUZZ_ENV })
const routes = new Routes(h.app)
const port = await listenLocal(h.app)

// A bare Node server, with Node's defaults: what it refuses, Node's parser refuses before any
// route runs, so only the rules for such an answer apply (no route, no method to check).
const reference = createServer((_request, response) => response.end('parsed'))
await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', resolve))
t.teardown(() => new Promise<void>((resolve) => reference.close(() => resolve())))
const referencePort = (reference.address() as { port: number }).port

/** One request as raw bytes; the answer as the bytes came (latin1), split into its parts. */
function exchange(request: Buffer, to = port): Promise<Answer & { head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(to, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1')
      const end = raw.indexOf('\r\n\r\n')
      const head = end === -1 ? raw : raw.slice(0, end)
      const [status = '', ...lines] = head.split('\r\n')
      const headers: Record<string, string | string[]> = {}
      for (const line of lines) {
        const colon = line.indexOf(':')
        const name = line.slice(0, colon).toLowerCase()
        const value = line.slice(colon + 1).trim()
        const before = headers[name]
        headers[name] = before === undefined ? value : [before, value].flat()
      }
      let body = end === -1 ? '' : raw.slice(end + 4)
      if (headers['transfer-encoding'] === 'chunked') body = unchunk(body)
      resolve({
        head,
        statusCode: Number(/^HTTP\/1\.[01] (\d{3})/.exec(status)?.[1] ?? 0),
        headers,
        body: Buffer.from(body, 'latin1').toString('utf8'),
      })
    })
    socket.end(request)
  })
}

function unchunk(body: string): string {
  let out = ''
  let rest = body
  for (;;) {
    const eol = rest.indexOf('\r\n')
    const size = Number.parseInt(rest.slice(0, eol), 16)
    if (!(size > 0)) return out
    out += rest.slice(eol + 2, eol + 2 + size)
    rest = rest.slice(eol + 4 + size)
  }
}

const bytes = (s: string, how: 'utf8' | 'latin1') => Buffer.from(s, how)

interface RawRequest {
  method: string
  target: Buffer
  headers: [string, Buffer][]
  body?: Buffer
  host?: boolean
}

function serialise(r: RawRequest): Buffer {
  const lines: Buffer[] = [
    Buffer.concat([bytes(`${r.method} `, 'latin1'), r.target, bytes(' HTTP/1.1\r\n', 'latin1')]),
  ]
  if (r.host !== false) lines.push(bytes('Host: login.example.test\r\n', 'latin1'))
  for (const [name, value] of r.headers) {
    lines.push(Buffer.concat([bytes(`${name}: `, 'latin1'), value, bytes('\r\n', 'latin1')]))
  }
  if (r.body) lines.push(bytes(`Content-Length: ${r.body.length}\r\n`, 'latin1'))
  lines.push(bytes('Connection: close\r\n\r\n', 'latin1'))
  if (r.body) lines.push(r.body)
  return Buffer.concat(lines)
}

/** What the checks need to know of a raw request. */
const sentOf = (r: RawRequest) => {
  const target = r.target.toString('latin1')
  const headers: Record<string, string> = {}
  for (const [name, value] of r.headers) headers[name.toLowerCase()] = value.toString('latin1')
  return { method: r.method, url: target, headers }
}

/**
 * Everything wrong with the answer to `r`. A request Node's parser refuses never reaches a
 * route: its answer is a 4xx problem document (it cannot know a page was meant), and the rules
 * of routes (405, pages, no-store under /v1) are not asked of it.
 */
async function problemsOf(r: RawRequest, res: Answer & { head: string }): Promise<string[]> {
  const sent = sentOf(r)
  const refused = (await exchange(serialise(r), referencePort)).statusCode !== 200
  // A refused HEAD is still a HEAD: its answer has the problem's head and no content.
  const found = refused
    ? answerProblems(
        { ...sent, method: sent.method === 'HEAD' ? 'HEAD' : 'FOO', url: '/nowhere' },
        res,
        routes,
      )
    : answerProblems(sent, res, routes)
  if (refused && sent.method === 'HEAD' && res.body !== '') found.push('content after a HEAD')
  if (res.statusCode === 0) found.push('no HTTP answer at all')
  if (/[^\t\r\n\x20-\x7e]/.test(res.head)) found.push('a byte outside printable ASCII in the head')
  return found.map(
    (p) =>
      `${p}: ${serialise(r).toString('latin1').slice(0, 400)} → ${res.head.slice(0, 300)} ${res.body.slice(0, 200)}`,
  )
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/**
 * A value as different clients put it on the wire. CR and LF are left out: they would end the
 * line, and what follows would be another request (the fixed cases hold folding on its own).
 */
const wire = (text: string) => {
  const s = text.replace(/[\r\n]/g, '')
  return fc
    .constantFrom('utf8', 'latin1', 'percent')
    .map((how) =>
      how === 'percent'
        ? bytes(encodeURIComponent(s.replace(LONE_SURROGATE, '\ufffd')), 'latin1')
        : bytes(s, how === 'utf8' ? 'utf8' : 'latin1'),
    )
}

const HEADER_NAMES = [
  'Authorization',
  'Cookie',
  'Origin',
  'Sec-Fetch-Site',
  'Accept-Language',
  'X-Request-Id',
  'X-Forwarded-For',
  'Content-Type',
  'User-Agent',
  'Accept',
]

const headerValue = fc.oneof(
  { weight: 4, arbitrary: hostileString(40).chain(wire) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...INVISIBLE)
      .map((c) => Buffer.concat([bytes('a', 'latin1'), bytes(c, 'latin1'), bytes('b', 'latin1')])),
  },
  // A folded line (obsolete line folding, RFC 9112 5.2).
  { weight: 1, arbitrary: fc.constant(bytes('a\r\n b', 'latin1')) },
  { weight: 1, arbitrary: fc.constant(bytes(asService.authorization, 'latin1')) },
  { weight: 1, arbitrary: fc.nat({ max: 40_000 }).map((n) => bytes('x'.repeat(n), 'latin1')) },
)

const rawRequest: fc.Arbitrary<RawRequest> = fc
  .record({
    method: fc.constantFrom(
      'GET',
      'GET',
      'POST',
      'POST',
      'HEAD',
      'PUT',
      'OPTIONS',
      'PROPFIND',
      'FOO',
    ),
    path: fc.constantFrom(
      ...PAGE_PATHS,
      '/v1/links',
      '/v1/admin/users',
      '/healthz',
      '/.well-known/jwks.json',
      '/docs',
      '/nowhere',
    ),
    query: fc.option(
      fc.tuple(fc.constantFrom('next', 'token', 'email'), hostileString().chain(wire)),
      { freq: 3 },
    ),
    headers: fc.array(fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValue), { maxLength: 4 }),
    body: fc.option(hostileString(60).chain(wire), { freq: 2 }),
  })
  .map(({ method, path, query, headers, body }) => ({
    method,
    target: query
      ? Buffer.concat([bytes(`${path}?${query[0]}=`, 'latin1'), query[1]])
      : bytes(path, 'latin1'),
    headers,
    ...(body !== null && method !== 'GET' && method !== 'HEAD'
      ? {
          body: Buffer.concat([bytes('email=', 'latin1'), body]),
          headers: [
            ['Content-Type', bytes('application/x-www-form-urlencoded', 'latin1')],
            ...headers,
          ],
        }
      : {}),
  }))

t.test('raw bytes on a real socket: no 5xx, every answer ours, no raw byte back', async (t) => {
  await fc.assert(
    fc.asyncProperty(rawRequest, async (r) => {
      const found = await problemsOf(r, await exchange(serialise(r)))
      failIf(found, '')
    }),
    { numRuns: 150 },
  )
  const ready = await exchange(
    serialise({ method: 'GET', target: bytes('/readyz', 'latin1'), headers: [] }),
  )
  t.equal(ready.statusCode, 200, 'the server still answers')
})

/** The cases the property stands for, one by one, so a failure names its case. */
const CASES: [string, RawRequest][] = [
  [
    'raw UTF-8 in the query of a page',
    { method: 'GET', target: bytes('/login?next=/\u65e5\u672c', 'utf8'), headers: [] },
  ],
  [
    'a raw latin1 byte in the query of a page',
    { method: 'GET', target: bytes('/login?next=/\u00fcber', 'latin1'), headers: [] },
  ],
  ['a NUL in the path', { method: 'GET', target: bytes('/log\u0000in', 'latin1'), headers: [] }],
  [
    'a control byte in X-Request-Id',
    {
      method: 'GET',
      target: bytes('/healthz', 'latin1'),
      headers: [['X-Request-Id', bytes('a\u0001b', 'latin1')]],
    },
  ],
  [
    'DEL in a Cookie',
    {
      method: 'GET',
      target: bytes('/login', 'latin1'),
      headers: [['Cookie', bytes('a=\u007f', 'latin1')]],
    },
  ],
  [
    'raw UTF-8 in Accept-Language, Origin and X-Forwarded-For',
    {
      method: 'GET',
      target: bytes('/login', 'latin1'),
      headers: [
        ['Accept-Language', bytes('\u05e2\u05d1\u05e8\u05d9\u05ea, \u65e5\u672c', 'utf8')],
        ['Origin', bytes('https://\u65e5\u672c.example', 'utf8')],
        ['X-Forwarded-For', bytes('\u202e203.0.113.9', 'utf8')],
      ],
    },
  ],
  [
    'raw UTF-8 in the Authorization of an API call',
    {
      method: 'POST',
      target: bytes('/v1/sessions/introspect', 'latin1'),
      headers: [
        ['Authorization', bytes(`${asAdmin.authorization}\u200b`, 'utf8')],
        ['Content-Type', bytes('application/json', 'latin1')],
      ],
      body: bytes('{"jwt":"x"}', 'latin1'),
    },
  ],
  [
    'a folded header',
    {
      method: 'GET',
      target: bytes('/healthz', 'latin1'),
      headers: [['X-Request-Id', bytes('a\r\n b', 'latin1')]],
    },
  ],
  [
    'headers past the size limit',
    {
      method: 'GET',
      target: bytes('/login', 'latin1'),
      headers: [['Cookie', bytes(`a=${'x'.repeat(20_000)}`, 'latin1')]],
    },
  ],
  [
    'a method Node does not know',
    { method: 'FOO', target: bytes('/healthz', 'latin1'), headers: [] },
  ],
  [
    'no Host header',
    { method: 'GET', target: bytes('/healthz', 'latin1'), headers: [], host: false },
  ],
  [
    'two Content-Length headers',
    {
      method: 'POST',
      target: bytes('/v1/links', 'latin1'),
      headers: [
        ['Content-Length', bytes('1', 'latin1')],
        ['Content-Type', bytes('application/json', 'latin1')],
      ],
      body: bytes('{}', 'latin1'),
    },
  ],
]

for (const [name, r] of CASES) {
  t.test(name, async (t) => {
    const res = await exchange(serialise(r))
    t.same(await problemsOf(r, res), [], `${res.statusCode}: ${res.head.split('\r\n')[0]}`)
  })
}
