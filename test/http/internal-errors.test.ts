import { Writable } from 'node:stream'
import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import t from 'tap'
import { buildDeps } from '../../src/app.js'
import { Unavailable } from '../../src/errors.js'
import { createHttpApp } from '../../src/http/http-app.js'
import { appLogger } from '../../src/http/logging.js'
import { listenLocal, testConfig } from '../helpers/app.js'
import { assertProblem } from '../helpers/http.js'
import { holdThroughClose } from '../helpers/shutdown.js'
import { connect, parseAnswer } from '../helpers/socket.js'
import { tempDir } from '../helpers/temp.js'

// Every 5xx is problem+json (DESIGN, HTTP API), including the ones that used to slip past the
// error handler into Fastify's own JSON: a failure while sending the first answer made the
// error handler's answer fail the same way. The app is the real one, with routes that misbehave
// in each way a handler, hook or serializer can.

const dataDir = tempDir(t)
const logs: string[] = []
const log = appLogger(
  'info',
  new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk))
      done()
    },
  }),
)
const deps = await buildDeps(testConfig(dataDir), { mailer: { send: async () => ({}) } }, log)
const app = await createHttpApp(deps, { log, trustProxy: false })
t.teardown(async () => {
  await app.close()
  await deps.store.close()
})

const CAUSE = 'internal-cause-that-stays-in-the-log'
const failing: Record<string, string> = {
  'a header with a character Node refuses': '/test/bad-header',
  'a redirect to a non-Latin-1 path': '/test/bad-redirect',
  'an onSend hook that throws': '/test/on-send',
  'a preSerialization hook that throws': '/test/pre-serialization',
  'an answer its response schema refuses': '/test/serializer',
  'a thrown null': '/test/throw-null',
  'a thrown string': '/test/throw-string',
  'an error carrying a 5xx status': '/test/status-502',
  'a value JSON cannot hold': '/test/bigint',
}

app.get('/test/bad-header', async (_request, reply) => {
  reply.header('x-note', `\u65e5\u672c ${CAUSE}`)
  return { ok: true }
})
app.get('/test/bad-redirect', async (_request, reply) => reply.redirect('/\u65e5\u672c', 303))
app.get(
  '/test/on-send',
  {
    onSend: async () => {
      throw new Error(CAUSE)
    },
  },
  async () => ({ ok: true }),
)
app.get(
  '/test/pre-serialization',
  {
    preSerialization: async () => {
      throw new Error(CAUSE)
    },
  },
  async () => ({ ok: true }),
)
app.get(
  '/test/serializer',
  {
    schema: {
      response: {
        200: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
      },
    },
  },
  async () => ({ m: CAUSE }) as never,
)
app.get('/test/throw-null', async () => {
  throw null
})
app.get('/test/throw-string', async () => {
  throw CAUSE
})
app.get('/test/status-502', async () => {
  throw Object.assign(new Error(CAUSE), { statusCode: 502 })
})
app.get('/test/bigint', async () => ({ n: 10n }))
app.get('/test/after-headers', async (_request, reply) => {
  reply.raw.writeHead(200, { 'content-type': 'text/plain' })
  reply.raw.write('partial ')
  throw new Error(CAUSE)
})

app.get('/test/unavailable', async () => {
  throw new Unavailable('The store is down.')
})
app.get('/test/bug', async () => {
  throw new TypeError(CAUSE)
})

const { held: slowStarted, closingStarted, release } = holdThroughClose(app)
await app.ready()

function assertInternalError(t: Test, res: LightMyRequestResponse): void {
  assertProblem(t, res, 500, 'internal_error')
  t.equal(res.json().detail, 'Something went wrong on our side.')
  t.notMatch(res.body, CAUSE, 'the cause stays out of the answer')
  t.notMatch(res.body, /ERR_|statusCode/, 'nothing of Fastify’s own error body')
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.type(res.headers['x-request-id'], 'string')
  t.notOk(res.headers['x-note'], 'headers the handler set are dropped')
  t.notOk(res.headers.location)
}

for (const [label, url] of Object.entries(failing)) {
  t.test(`${label} → 500 problem+json`, async (t) => {
    const res = await app.inject({ method: 'GET', url })
    assertInternalError(t, res)
    const line = logs.find(
      (l) => l.includes(res.headers['x-request-id'] as string) && l.includes('"level":50'),
    )
    t.ok(line, 'the failure is logged at error level with the request id')
  })
}

t.test('HEAD of a failing route: 500 problem+json headers, no body', async (t) => {
  const res = await app.inject({ method: 'HEAD', url: '/test/on-send' })
  t.equal(res.statusCode, 500)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.equal(res.body, '')
})

const port = await listenLocal(app)

t.test('over a socket too, the bad header answers 500 problem+json', async (t) => {
  const connection = await connect(port)
  connection.socket.write('GET /test/bad-redirect HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')
  await connection.closed
  const answer = parseAnswer(connection.received())
  t.equal(answer.status, 500)
  t.match(answer.headers['content-type'], /^application\/problem\+json/)
  t.equal(JSON.parse(answer.body).code, 'internal_error')
})

t.test(
  'a failure after the answer began cuts the connection, without a second answer',
  async (t) => {
    const connection = await connect(port)
    connection.socket.write('GET /test/after-headers HTTP/1.1\r\nhost: x\r\n\r\n')
    await connection.closed
    const text = connection.received()
    t.notMatch(text, /HTTP\/1\.1 500/, 'no second answer after the first began')
    t.notMatch(text, /\r\n0\r\n\r\n$/, 'and the first never ends as if complete')
  },
)

// Client errors capture no stack (src/errors.ts); the errors a 5xx logs must keep theirs.
t.test('a 5xx is logged with the stack of its error', async (t) => {
  for (const [url, status] of [
    ['/test/unavailable', 503],
    ['/test/bug', 500],
  ] as const) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, status)
    const line = logs.find(
      (l) => l.includes(res.headers['x-request-id'] as string) && l.includes('"level":50'),
    )
    const stack = String(JSON.parse(line ?? '{}').err?.stack ?? '')
    t.match(stack, /\n\s+at /, `${url}: the logged error has stack frames`)
  }
})

// Last: it closes the app. A request on a connection still open while the service stops used to
// get Fastify's own JSON 503.
t.test('a request while the service shuts down → 503 problem+json', async (t) => {
  const connection = await connect(port)
  connection.socket.write('GET /test/slow HTTP/1.1\r\nhost: x\r\n\r\n')
  await slowStarted
  const closed = app.close()
  await closingStarted
  const arrived = new Promise((resolve) => app.server.once('request', resolve))
  connection.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n')
  await arrived
  release()
  await connection.closed
  await closed
  const text = connection.received()
  const second = parseAnswer(text.slice(text.indexOf('HTTP/1.1', 1)))
  t.match(text, /^HTTP\/1\.1 200/, 'the request in flight is finished')
  t.equal(second.status, 503)
  t.match(second.headers['content-type'], /^application\/problem\+json/)
  t.equal(JSON.parse(second.body).code, 'unavailable')
  t.equal(second.headers.connection, 'close')
  t.ok(second.headers['retry-after'], 'with Retry-After')
})
