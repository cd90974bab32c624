import t from 'tap'
import { buildDeps } from '../../src/app.js'
import { createHttpApp } from '../../src/http/http-app.js'
import { appLogger } from '../../src/http/logging.js'
import { listenLocal, testConfig } from '../helpers/app.js'
import { holdThroughClose } from '../helpers/shutdown.js'
import { connect, parseAnswer } from '../helpers/socket.js'
import { tempDir } from '../helpers/temp.js'

// A page asked for on a connection still open while the service stops is refused before the
// pages' own hooks run (their cookie parsing included): the answer is the 503 page, not a 500
// from a page that expected cookies to have been read.

const dataDir = tempDir(t)
const log = appLogger('silent')
const deps = await buildDeps(testConfig(dataDir), { mailer: { send: async () => ({}) } }, log)
const app = await createHttpApp(deps, { log, trustProxy: false })
t.teardown(async () => {
  await app.close()
  await deps.store.close()
})

const { held: slowStarted, closingStarted, release } = holdThroughClose(app)
const port = await listenLocal(app)

t.test('a page asked for while the service shuts down → the 503 page', async (t) => {
  const connection = await connect(port)
  connection.socket.write('GET /test/slow HTTP/1.1\r\nhost: x\r\n\r\n')
  await slowStarted
  const closed = app.close()
  await closingStarted
  const arrived = new Promise((resolve) => app.server.once('request', resolve))
  connection.socket.write(
    'GET /login HTTP/1.1\r\nhost: x\r\naccept: text/html\r\ncookie: __Host-latchkey-csrf=x\r\n\r\n',
  )
  await arrived
  release()
  await connection.closed
  await closed
  const text = connection.received()
  const second = parseAnswer(text.slice(text.indexOf('HTTP/1.1', 1)))
  t.match(text, /^HTTP\/1\.1 200/, 'the request in flight is finished')
  t.equal(second.status, 503)
  t.match(second.headers['content-type'], /^text\/html/)
  t.equal(second.headers.connection, 'close')
})
