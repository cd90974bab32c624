import t from 'tap'
import { openPostgresStore } from '../../src/store/postgres/index.js'
import { Flag, Purpose } from '../../src/tokens/codec.js'
import { KeyRing } from '../../src/tokens/keyring.js'
import { asService, build, linkSecret } from '../helpers/app.js'
import { assertProblem } from '../helpers/http.js'
import { Browser, COOKIE, HEADINGS, heading, mustForm } from '../helpers/pages.js'

// The database does not answer (a PostgreSQL store pointed at a port where nothing listens):
// people on the hosted pages get a page that says so, with Retry-After; the API gets 503
// problem+json. Nothing is consumed, nothing is set, and no token reaches the log.

const store = openPostgresStore('postgres://postgres@127.0.0.1:1/latchkey')
t.teardown(() => store.close())
const h = await build(t, { overrides: { store } })

const UNAVAILABLE = /^Sign-in is briefly unavailable$/
const token = new KeyRing([{ kid: 1, secret: Buffer.from(linkSecret, 'base64url') }]).mint({
  purpose: Purpose.Login,
  flags: Flag.OneTime,
  userId: '01900000-0000-7000-8000-000000000000',
  expiresAt: Math.floor(h.clock.now() / 1000) + 600,
  rev: 0,
  seq: 0,
})

t.test('the form still shows; sending it answers the unavailable page', async (t) => {
  const b = new Browser(h.app)
  const form = await b.get('/login?next=/home')
  t.equal(form.statusCode, 200, 'the form needs no database')
  const res = await b.post('/login', { ...mustForm(form.body, '/login'), email: 'a@example.com' })
  t.equal(res.statusCode, 503)
  t.match(res.headers['content-type'], /^text\/html/)
  t.equal(res.headers['retry-after'], '5')
  t.match(heading(res.body), UNAVAILABLE)
  t.match(res.body, /href="\/login\?next=%2Fhome"/, 'try again keeps the target')
  t.notOk(
    res.cookies.some((c) => c.name === COOKIE.binding),
    'no browser binding for a request that did nothing',
  )
})

t.test('opening a link and confirming it answer the unavailable page', async (t) => {
  const b = new Browser(h.app)
  const page = await b.get(`/login/link?token=${token}`)
  t.equal(page.statusCode, 503)
  t.match(heading(page.body), UNAVAILABLE)
  t.match(page.headers['cache-control'], /no-store/)

  const login = await b.get('/login')
  const confirm = await b.post('/login/link', { ...mustForm(login.body, '/login'), token })
  t.equal(confirm.statusCode, 503)
  t.match(heading(confirm.body), UNAVAILABLE)
  t.notOk(
    confirm.cookies.some((c) => c.name === COOKIE.session),
    'no session',
  )
})

t.test('a broken link is still told apart without the database', async (t) => {
  const res = await new Browser(h.app).get(`/login/link?token=${'A'.repeat(64)}`)
  t.equal(res.statusCode, 400)
  t.match(heading(res.body), HEADINGS.token_invalid)
})

t.test('the API answers 503 problem+json', async (t) => {
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/links/verify',
    headers: asService,
    payload: { token },
  })
  assertProblem(t, res, 503, 'unavailable')
  t.equal(res.headers['retry-after'], '5')
})

t.test('the log says why, and never holds the token', async (t) => {
  const log = h.logs.join('')
  t.match(log, /ECONNREFUSED/)
  t.notMatch(log, token)
})
