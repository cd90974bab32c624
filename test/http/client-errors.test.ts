import t from 'tap'
import { build, listenLocal } from '../helpers/app.js'
import { connect, parseAnswer } from '../helpers/socket.js'

// Answers Node gives before Fastify routes anything (431, 400 for bytes that are not HTTP) are
// problem+json like every other answer. Only a real socket reaches them: inject builds a parsed
// request and never meets Node's HTTP parser.

const harness = await build(t)
const port = await listenLocal(harness.app)

async function answerTo(raw: string) {
  const connection = await connect(port)
  connection.socket.write(raw)
  await connection.closed
  return parseAnswer(connection.received())
}

const cases: [string, string, number, string][] = [
  [
    'headers over the limit',
    `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    431,
    'headers_too_large',
  ],
  [
    'a URL over the header limit',
    `GET /login?next=${'a'.repeat(20_000)} HTTP/1.1\r\nhost: x\r\n\r\n`,
    431,
    'headers_too_large',
  ],
  ['bytes that are not HTTP', 'HELLO THERE\r\n\r\n', 400, 'invalid_request'],
  [
    'a header line without a colon',
    'GET / HTTP/1.1\r\nhost: x\r\nbroken\r\n\r\n',
    400,
    'invalid_request',
  ],
  [
    'a line break inside a header value',
    'GET / HTTP/1.1\r\nhost: x\r\nx-a: b\rc\r\n\r\n',
    400,
    'invalid_request',
  ],
]

for (const [label, raw, status, code] of cases) {
  t.test(`${label} → ${status} problem+json, then the connection closes`, async (t) => {
    const answer = await answerTo(raw)
    t.equal(answer.status, status)
    t.match(answer.headers['content-type'], /^application\/problem\+json/)
    t.equal(answer.headers['cache-control'], 'no-store')
    t.equal(answer.headers.connection, 'close')
    const body = JSON.parse(answer.body)
    t.same(Object.keys(body).sort(), ['code', 'detail', 'status', 'title', 'type'])
    t.equal(body.status, status)
    t.equal(body.code, code)
    const id = answer.headers['x-request-id'] as string
    t.match(id, /^[0-9a-f-]{36}$/, 'a request id')
    t.ok(
      harness.logs.some((line) => line.includes(id)),
      'and the log line about it carries the same id',
    )
  })
}

// Found by `npm run fuzz`: the problem document went out after the head of a HEAD's answer, and
// a client on a kept-alive connection read its bytes as the start of the next answer.
t.test('headers over the limit on a HEAD → the same head, and no content', async (t) => {
  const connection = await connect(port)
  connection.socket.write(
    `HEAD /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
  )
  await connection.closed
  const received = connection.received()
  const answer = parseAnswer(received)
  t.equal(answer.status, 431)
  t.match(answer.headers['content-type'], /^application\/problem\+json/)
  t.equal(answer.headers.connection, 'close')
  t.ok(received.endsWith('\r\n\r\n'), 'nothing after the head')
})
