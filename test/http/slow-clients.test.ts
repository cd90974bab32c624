import t from 'tap'
import { asService, build, listenLocal, type TestApp } from '../helpers/app.js'
import { until } from '../helpers/poll.js'
import { connect, parseAnswer, type RawConnection } from '../helpers/socket.js'

// DESIGN 21: slow or idle clients are cut off, and connections are capped. Real sockets against
// a real listening server: these are Node's timers and counters, which inject never reaches.

async function listening(env: Record<string, string>): Promise<TestApp & { port: number }> {
  const harness = await build(t, { env })
  return { ...harness, port: await listenLocal(harness.app) }
}

/** Writes `text` one byte at a time, every `everyMs`, until the connection closes. */
function trickle(connection: RawConnection, text: string, everyMs = 100): void {
  let i = 0
  const timer = setInterval(() => {
    if (connection.socket.destroyed || i >= text.length) return clearInterval(timer)
    connection.socket.write(text[i++] as string)
  }, everyMs)
  connection.closed.finally(() => clearInterval(timer)).catch(() => undefined)
}

const short = await listening({
  REQUEST_TIMEOUT: '2',
  HEADERS_TIMEOUT: '1',
  KEEP_ALIVE_TIMEOUT: '1',
})
// Upper bounds are generous: Node's timers fire late on a loaded machine, never early.

t.test('a body sent a byte at a time is cut off after REQUEST_TIMEOUT, with a 408', async (t) => {
  const connection = await connect(short.port)
  const body = JSON.stringify({ email: 'slow@example.com', deliver: 'none' })
  connection.socket.write(
    [
      'POST /v1/links HTTP/1.1',
      'host: login.example.test',
      `authorization: ${asService.authorization}`,
      'content-type: application/json',
      `content-length: ${body.length}`,
      '',
      '',
    ].join('\r\n'),
  )
  // A byte every 100 ms: the connection is never idle, and the body would take 4 s.
  trickle(connection, body)
  const { openMs } = await connection.closed
  t.ok(openMs >= 1500 && openMs < 12_000, `closed after ${Math.round(openMs)} ms (limit 2 s)`)
  const answer = parseAnswer(connection.received())
  t.equal(answer.status, 408)
  t.match(answer.headers['content-type'], /^application\/problem\+json/)
  t.equal(JSON.parse(answer.body).code, 'request_timeout')
  t.match(answer.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'with a request id')
})

t.test('headers sent a byte at a time are cut off after HEADERS_TIMEOUT', async (t) => {
  const connection = await connect(short.port)
  connection.socket.write('GET /healthz HTTP/1.1\r\n')
  trickle(connection, `host: login.example.test\r\nx-filler: ${'a'.repeat(100)}\r\n\r\n`)
  const { openMs } = await connection.closed
  t.ok(openMs >= 900 && openMs < 12_000, `closed after ${Math.round(openMs)} ms (limit 1 s)`)
  const answer = parseAnswer(connection.received())
  t.equal(answer.status, 408)
  t.equal(JSON.parse(answer.body).code, 'request_timeout')
})

t.test('a connection that sends nothing is closed', async (t) => {
  const connection = await connect(short.port)
  const { openMs } = await connection.closed
  t.ok(openMs < 12_000, `closed after ${Math.round(openMs)} ms`)
})

t.test('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT', async (t) => {
  // REQUEST_TIMEOUT (which also closes a silent connection) is 30 s here: a close within 20 s
  // can only be the keep-alive timeout's.
  const keepAlive = await listening({ KEEP_ALIVE_TIMEOUT: '1' })
  const connection = await connect(keepAlive.port, 25_000)
  connection.socket.write('GET /healthz HTTP/1.1\r\nhost: login.example.test\r\n\r\n')
  await connection.receive('{"status":"ok"}')
  connection.since()
  t.match(parseAnswer(connection.received()).headers['keep-alive'], /timeout=1\b/)
  const { openMs } = await connection.closed
  t.ok(openMs >= 800 && openMs < 20_000, `closed ${Math.round(openMs)} ms after the answer`)
})

t.test('a connection in use is not cut off by the keep-alive timeout', async (t) => {
  const connection = await connect(short.port)
  for (let i = 0; i < 3; i++) {
    connection.socket.write('GET /healthz HTTP/1.1\r\nhost: login.example.test\r\n\r\n')
    await connection.receive(new RegExp(`(\\{"status":"ok"\\}[\\s\\S]*){${i + 1}}`))
  }
  t.notOk(connection.socket.destroyed, 'three requests on one connection')
  connection.socket.destroy()
})

t.test('connections past MAX_CONNECTIONS are closed; the others keep working', async (t) => {
  const capped = await listening({ MAX_CONNECTIONS: '3' })
  const health = 'GET /healthz HTTP/1.1\r\nhost: login.example.test\r\n\r\n'
  const open: RawConnection[] = []
  for (let i = 0; i < 3; i++) {
    const connection = await connect(capped.port)
    connection.socket.write(health)
    await connection.receive('{"status":"ok"}')
    open.push(connection)
  }

  const refused = await connect(capped.port)
  refused.socket.write(health)
  await refused.closed
  t.equal(refused.received(), '', 'the fourth connection is closed without an answer')

  const [first, second] = open as [RawConnection, RawConnection]
  second.socket.write(health)
  await second.receive(/(\{"status":"ok"\}[\s\S]*){2}/)
  t.pass('an open connection still answers')

  first.socket.destroy()
  await until(
    () =>
      new Promise<boolean>((resolve) =>
        capped.app.server.getConnections((_error, count) => resolve(count < 3)),
      ),
    'the server to count the closed connection',
    10,
  )
  const next = await connect(capped.port)
  next.socket.write(health)
  await next.receive('{"status":"ok"}')
  t.pass('a place freed is taken by the next connection')
  for (const connection of [...open, next]) connection.socket.destroy()
})
