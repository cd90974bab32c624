import t, { type Test } from 'tap'
import type { AppOverrides } from '../../src/app.js'
import type { Env } from '../../src/config/index.js'
import type { App } from '../../src/http/types.js'
import type { Mailer, MailMessage } from '../../src/mail/mailer.js'
import { ResendTransport } from '../../src/mail/resend-transport.js'
import { DEFAULT_OUTBOX_OPTIONS } from '../../src/outbox/worker.js'
import type { Store } from '../../src/store/index.js'
import type { OutboxMessage } from '../../src/store/outbox.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { asAdmin, build, PUBLIC_URL, type TestApp, testConfig, tokenOf } from '../helpers/app.js'
import { ManualClock } from '../helpers/clock.js'
import { type FakeEmail, type FakeResend, startFakeResend } from '../helpers/fake-resend.js'
import { apiLink, postLink, postVerify } from '../helpers/http.js'
import { tempDir } from '../helpers/temp.js'

// Delivery end to end: the real resend SDK, configured through the environment as in production,
// talking HTTP to a local fake Resend. Time moves only through the ManualClock; the worker never
// runs on its own (autoStart false) unless a test says so, and `random` is fixed so the jittered
// backoff is exact: attempt 1 waits 2000 / 2 + 0.5 * 2000 / 2 = 1500 ms.

const MAIL_FROM = 'Latchkey Test <login@example.test>'
const FIRST_BACKOFF_MS = 1_500
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const LINK = new RegExp(`${PUBLIC_URL.replace(/[.]/g, '\\.')}/login/link\\?token=\\S+`)

const resendEnv = (fake: FakeResend): Env => ({
  MAIL_TRANSPORT: 'resend',
  RESEND_API_KEY: fake.apiKey,
  RESEND_BASE_URL: fake.url,
  MAIL_FROM,
})

function databaseFile(dataDir: string, env: Env): string {
  const database = testConfig(dataDir, env).database
  if (database.kind !== 'sqlite') throw new Error('tests run on SQLite')
  return database.file
}

interface RigOptions {
  /** Replaces the transport built from the environment (e.g. for a short timeout). */
  mailer?: (fake: FakeResend, clock: ManualClock) => Mailer
  outbox?: AppOverrides['outbox']
}

interface Rig {
  h: TestApp
  app: App
  fake: FakeResend
  /** The app's own store, opened here so the test can read (and, for crashes, claim) rows. */
  store: Store
  clock: ManualClock
  /** The outbox rows for one address, oldest first. */
  rowsFor(recipient: string): Promise<OutboxMessage[]>
  /** The only outbox row for one address. */
  rowFor(recipient: string): Promise<OutboxMessage>
}

async function rig(t: Test, options: RigOptions = {}): Promise<Rig> {
  const fake = await startFakeResend()
  t.teardown(() => fake.close())
  const dataDir = tempDir(t)
  const clock = new ManualClock()
  const env = resendEnv(fake)
  const store = openSqliteStore(databaseFile(dataDir, env))
  t.teardown(() => store.close())
  const h = await build(t, {
    dataDir,
    clock,
    env,
    overrides: {
      store,
      // build captures mail by default; undefined makes buildApp build the transport from
      // MAIL_TRANSPORT, RESEND_API_KEY, RESEND_BASE_URL and MAIL_FROM, as `latchkey serve` does.
      mailer: options.mailer?.(fake, clock),
      outbox: { random: () => 0.5, ...options.outbox },
    },
  })
  const rowsFor = async (recipient: string) =>
    (await store.listOutbox({ limit: 1000 }))
      .filter((m) => m.recipient === recipient)
      .sort((a, b) => a.id.localeCompare(b.id))
  return {
    h,
    app: h.app,
    fake,
    store,
    clock,
    rowsFor,
    async rowFor(recipient) {
      const rows = await rowsFor(recipient)
      if (rows.length !== 1) throw new Error(`${rows.length} outbox rows for ${recipient}`)
      return rows[0] as OutboxMessage
    },
  }
}

/** A short-timeout Resend transport pointed at the fake, reading Retry-After dates on the app's clock. */
const shortTimeout = (fake: FakeResend, clock: ManualClock) =>
  new ResendTransport({
    apiKey: fake.apiKey,
    from: MAIL_FROM,
    baseUrl: fake.url,
    timeoutMs: 200,
    clock: clock.now,
  })

/** POST /v1/links with deliver "email", asserting the 202. */
async function requestEmail(t: Test, app: App, email: string, extra: Record<string, unknown> = {}) {
  const res = await postLink(app, { email, deliver: 'email', ...extra })
  t.equal(res.statusCode, 202, `POST /v1/links for ${email} answers 202`)
  return res
}

/** The sign-in link in an email's plain-text part. */
function linkIn(t: Test, email: FakeEmail | undefined): string {
  const link = email?.text?.match(LINK)?.[0]
  t.ok(link, 'the email carries a sign-in link')
  return link ?? ''
}

const keyFor = (message: OutboxMessage) => `latchkey-outbox-${message.id}`

t.test('success: accepted first, sent by the worker, and the emailed link signs in', async (t) => {
  const { app, fake, clock, h, rowFor } = await rig(t)
  const address = 'ada@example.com'
  const res = await requestEmail(t, app, address)
  t.equal(res.json().delivery, 'queued')
  t.equal(fake.requests.length, 0, 'nothing was sent before the answer')
  t.match(await rowFor(address), { status: 'pending', attempts: 0, userId: res.json().user_id })

  t.equal(await app.outbox.runOnce(), 1, 'the worker handles one message')
  t.equal(fake.emails.length, 1, 'exactly one email reached Resend')
  const [email] = fake.emails
  const row = await rowFor(address)
  t.match(email, { from: MAIL_FROM, to: [address], idempotencyKey: keyFor(row) })
  t.match(email?.subject, /latchkey/, 'the subject names the app')
  t.match(row, { status: 'sent', attempts: 1, lastError: null, providerId: email?.id })
  t.equal(row.sentAt, clock.ms, 'sent at the app clock')

  const link = linkIn(t, email)
  const token = tokenOf(link)
  t.ok(email?.html?.includes(token), 'the HTML part carries the same link')
  t.notOk(JSON.stringify(row).includes(token), 'the outbox row does not hold the token')
  t.notOk(h.logs.join('').includes(token), 'no log line holds the token')

  clock.advance(5)
  const verified = await postVerify(app, { token })
  t.equal(verified.statusCode, 200, 'the emailed link verifies')
  t.equal(verified.json().user.id, res.json().user_id)
  t.equal(verified.json().user.email, address)
  t.type(verified.json().session?.jwt, 'string', 'and opens a session')
  t.equal((await postVerify(app, { token })).statusCode, 401, 'once')

  t.equal(await app.outbox.runOnce(), 0, 'a second run has nothing to do')
  t.equal(fake.requests.length, 1, 'and sends nothing')
})

t.test('500 then success: retried after the backoff with the same key, one email', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t)
  const address = 'retry@example.com'
  await requestEmail(t, app, address)
  fake.fail(500)

  await app.outbox.runOnce()
  t.match(fake.requests, [{ path: '/emails', status: 500 }], 'Resend answered 500')
  t.equal(fake.emails.length, 0, 'nothing delivered')
  let row = await rowFor(address)
  t.match(row, {
    status: 'pending',
    attempts: 1,
    lastError: 'Resend answered 500 application_error',
  })
  t.equal(row.nextAttemptAt, clock.ms + FIRST_BACKOFF_MS, 'retried after the jittered backoff')

  t.equal(await app.outbox.runOnce(), 0, 'not retried at once')
  t.equal(fake.requests.length, 1, 'no request during the backoff')
  clock.advance(1.499)
  t.equal(await app.outbox.runOnce(), 0, 'nor a moment before it ends')
  t.equal(fake.requests.length, 1)

  clock.advance(0.001)
  t.equal(await app.outbox.runOnce(), 1, 'retried when the backoff ends')
  t.equal(fake.emails.length, 1, 'exactly one email delivered')
  row = await rowFor(address)
  t.match(row, { status: 'sent', attempts: 2, lastError: null, providerId: fake.emails[0]?.id })
  t.same(
    fake.requests.map((r) => r.idempotencyKey),
    [keyFor(row), keyFor(row)],
    'both attempts carried the same idempotency key',
  )

  clock.advance(3600)
  t.equal(await app.outbox.runOnce(), 0)
  t.equal(fake.requests.length, 2, 'a sent message is never sent again')
})

t.test('backoff grows with every attempt, capped by maxDelayMs', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t, { outbox: { maxDelayMs: 10_000 } })
  const address = 'backoff@example.com'
  await requestEmail(t, app, address)
  // base 2000, random 0.5: ceiling/2 + ceiling/4 for ceilings 2000, 4000, 8000, 10000 (capped).
  const expected = [1_500, 3_000, 6_000, 7_500, 7_500]
  for (const [i, delay] of expected.entries()) {
    fake.fail(503)
    t.equal(await app.outbox.runOnce(), 1, `attempt ${i + 1} runs`)
    const row = await rowFor(address)
    t.equal(row.attempts, i + 1)
    t.equal(row.nextAttemptAt - clock.ms, delay, `attempt ${i + 1} waits ${delay} ms`)
    clock.advance(delay / 1000)
  }
  t.equal(await app.outbox.runOnce(), 1)
  t.equal(fake.emails.length, 1, 'delivered once in the end')
  t.equal(new Set(fake.requests.map((r) => r.idempotencyKey)).size, 1, 'one key for all six')
})

t.test('lost answer: a timed-out attempt is retried with its key; still one email', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t, { mailer: shortTimeout })
  const address = 'timeout@example.com'
  await requestEmail(t, app, address)
  // Accepted and recorded at once, answered long after the transport's 200 ms.
  fake.delay(5_000)

  await app.outbox.runOnce()
  t.equal(fake.emails.length, 1, 'Resend accepted the first attempt')
  let row = await rowFor(address)
  t.match(row, {
    status: 'pending',
    attempts: 1,
    lastError: 'Resend did not answer within 200 ms',
  })
  t.equal(row.nextAttemptAt, clock.ms + FIRST_BACKOFF_MS)

  clock.advance(FIRST_BACKOFF_MS / 1000)
  t.equal(await app.outbox.runOnce(), 1)
  row = await rowFor(address)
  t.equal(fake.emails.length, 1, 'the retry sent no second email')
  t.match(row, { status: 'sent', attempts: 2, providerId: fake.emails[0]?.id })
  t.same(
    fake.requests.map((r) => r.idempotencyKey),
    [keyFor(row), keyFor(row)],
    'the retry carried the same key (and the same payload, or the fake would answer 409)',
  )
})

t.test('429 with Retry-After: 30 waits 30 s although the backoff is shorter', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t)
  const address = 'limited@example.com'
  await requestEmail(t, app, address)
  fake.fail(429, { name: 'rate_limit_exceeded', retryAfter: 30 })

  await app.outbox.runOnce()
  let row = await rowFor(address)
  t.match(row, {
    status: 'pending',
    attempts: 1,
    lastError: 'Resend answered 429 rate_limit_exceeded',
  })
  t.equal(row.nextAttemptAt, clock.ms + 30_000, 'next attempt at Retry-After, not at 1.5 s')

  clock.advance(29)
  t.equal(await app.outbox.runOnce(), 0, 'not after 29 s')
  t.equal(fake.requests.length, 1, 'no new request to Resend')

  clock.advance(1)
  t.equal(await app.outbox.runOnce(), 1, 'sent after 30 s')
  row = await rowFor(address)
  t.equal(row.status, 'sent')
  t.equal(fake.emails.length, 1)
  t.equal(fake.requests[1]?.idempotencyKey, keyFor(row))
})

t.test('429 with Retry-After as an HTTP-date is honoured too', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t, { mailer: shortTimeout })
  const address = 'limited-date@example.com'
  await requestEmail(t, app, address)
  fake.fail(429, {
    name: 'rate_limit_exceeded',
    retryAfter: new Date(clock.ms + 45_000).toUTCString(),
  })

  await app.outbox.runOnce()
  t.equal((await rowFor(address)).nextAttemptAt, clock.ms + 45_000)
  clock.advance(44)
  t.equal(await app.outbox.runOnce(), 0, 'not before the date')
  clock.advance(1)
  t.equal(await app.outbox.runOnce(), 1, 'sent at the date')
  t.equal(fake.emails.length, 1)
})

t.test('connection refused: retried, nothing lost, delivered once Resend is back', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t)
  const address = 'outage@example.com'
  await requestEmail(t, app, address)
  await fake.close()

  t.equal(await app.outbox.runOnce(), 1)
  let row = await rowFor(address)
  t.match(row, { status: 'pending', attempts: 1, lastError: 'Resend could not be reached' })
  t.equal(row.nextAttemptAt, clock.ms + FIRST_BACKOFF_MS, 'a retry is scheduled')
  t.equal(fake.requests.length, 0, 'nothing reached Resend')

  await fake.restart()
  t.equal(await app.outbox.runOnce(), 0, 'the backoff still holds')
  clock.advance(FIRST_BACKOFF_MS / 1000)
  t.equal(await app.outbox.runOnce(), 1)
  row = await rowFor(address)
  t.match(row, { status: 'sent', attempts: 2, lastError: null })
  t.equal(fake.emails.length, 1, 'delivered once')
  t.match(fake.emails[0], { to: [address], idempotencyKey: keyFor(row) })
})

t.test('422: marked failed with the reason, never retried', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t)
  const address = 'refused@example.com'
  await requestEmail(t, app, address)
  fake.fail(422, { name: 'validation_error', message: `Invalid \`to\` field: ${address}` })

  t.equal(await app.outbox.runOnce(), 1)
  const row = await rowFor(address)
  t.match(row, { status: 'failed', attempts: 1, lastError: 'Resend answered 422 validation_error' })
  t.notOk(row.lastError?.includes(address), 'the recorded error does not repeat the address')

  clock.advance(24 * 3600)
  t.equal(await app.outbox.runOnce(), 0, 'a day later: nothing due')
  t.equal(fake.requests.length, 1, 'no new request to Resend')
  t.equal(fake.emails.length, 0)
  t.equal((await rowFor(address)).status, 'failed')
})

t.test('a link that expires before it can be sent is failed, not sent', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t)
  const address = 'late@example.com'
  await requestEmail(t, app, address, { ttl_seconds: 60 })
  fake.fail(500)
  await app.outbox.runOnce()
  t.equal((await rowFor(address)).status, 'pending')

  clock.advance(61)
  t.equal(await app.outbox.runOnce(), 1)
  t.match(await rowFor(address), {
    status: 'failed',
    lastError: 'the link expired before it could be sent',
  })
  t.equal(fake.requests.length, 1, 'no second request')
  t.equal(fake.emails.length, 0)
})

t.test('stale link: a queued one-time link is dropped once the user signed in', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t)
  const address = 'stale@example.com'
  await requestEmail(t, app, address)
  const other = await apiLink(app, { email: address, deliver: 'none' })
  clock.advance(1)
  t.equal((await postVerify(app, { token: other.token })).statusCode, 200, 'signed in')

  t.equal(await app.outbox.runOnce(), 1)
  t.match(await rowFor(address), {
    status: 'failed',
    lastError: 'the link was voided: another link was used first',
  })
  t.equal(fake.requests.length, 0, 'nothing sent')
})

t.test('a user disabled or revoked after the request gets no email', async (t) => {
  const { app, fake, rowFor } = await rig(t)
  const disabled = await apiLink(app, { email: 'gone@example.com' })
  const revoked = await apiLink(app, { email: 'revoked@example.com' })
  await requestEmail(t, app, 'gone@example.com')
  await requestEmail(t, app, 'revoked@example.com')
  const admin = (path: string) => app.inject({ method: 'POST', url: path, headers: asAdmin })
  t.equal((await admin(`/v1/admin/users/${disabled.userId}/disable`)).statusCode, 200)
  t.equal((await admin(`/v1/admin/users/${revoked.userId}/revoke`)).statusCode, 200)

  t.equal(await app.outbox.runOnce(), 2)
  t.match(await rowFor('gone@example.com'), {
    status: 'suppressed',
    reason: 'user_disabled',
    lastError: null,
  })
  t.match(await rowFor('revoked@example.com'), {
    status: 'failed',
    lastError: 'the user was revoked',
  })
  t.equal(fake.requests.length, 0)
})

t.test('stopped between accept and send: sent once after the restart', async (t) => {
  const fake = await startFakeResend()
  t.teardown(() => fake.close())
  const dataDir = tempDir(t)
  const clock = new ManualClock()
  const env = resendEnv(fake)
  // Real stores (each app opens and closes its own file) and the transport from the environment.
  const start = () => build(t, { dataDir, clock, env, overrides: { mailer: undefined } })
  const address = 'restart@example.com'

  const a = await start()
  const accepted = await requestEmail(t, a.app, address)
  await a.close()
  t.equal(fake.requests.length, 0, 'A stopped before sending anything')

  clock.advance(10)
  const b = await start()
  t.equal(await b.app.outbox.runOnce(), 1, 'B finds the message A accepted')
  t.equal(fake.emails.length, 1, 'and sends it')
  t.match(fake.emails[0], { from: MAIL_FROM, to: [address] })
  t.equal(await b.app.outbox.runOnce(), 0, 'running again sends nothing')
  const token = tokenOf(linkIn(t, fake.emails[0]))
  await b.close()

  const c = await start()
  t.equal(await c.app.outbox.runOnce(), 0, 'nor does another restart')
  t.equal(fake.requests.length, 1, 'one request to Resend in all')
  const verified = await postVerify(c.app, { token })
  t.equal(verified.statusCode, 200, 'the link verifies on the restarted service')
  t.equal(verified.json().user.id, accepted.json().user_id)
  await c.close()

  const store = openSqliteStore(databaseFile(dataDir, env))
  t.teardown(() => store.close())
  const [row, ...more] = await store.listOutbox({ limit: 10 })
  t.equal(more.length, 0)
  t.match(row, { recipient: address, status: 'sent', attempts: 1 })
  t.equal(fake.emails[0]?.idempotencyKey, row && keyFor(row))
})

t.test('two instances on one database send each message once', async (t) => {
  const fake = await startFakeResend()
  t.teardown(() => fake.close())
  const dataDir = tempDir(t)
  const clock = new ManualClock()
  const env = resendEnv(fake)
  // One message per claim, so the two workers' claims interleave while sends are in flight.
  const overrides = { mailer: undefined, outbox: { batchSize: 1 } }
  const a = await build(t, { dataDir, clock, env, overrides })
  const b = await build(t, { dataDir, clock, env, overrides })
  for (let i = 0; i < 5; i++) await requestEmail(t, i % 2 ? a.app : b.app, `twin-${i}@example.com`)

  const handled = await Promise.all([a.app.outbox.runOnce(), b.app.outbox.runOnce()])
  t.equal(handled[0] + handled[1], 5, 'between them, the two workers handled five messages')
  t.equal(fake.emails.length, 5, 'five emails')
  t.equal(new Set(fake.emails.map((e) => e.to[0])).size, 5, 'one per address')
  t.equal(fake.requests.length, 5, 'and no message was attempted twice')
})

t.test('a message held by a worker that died is sent once its lease runs out', async (t) => {
  const { leaseMs } = DEFAULT_OUTBOX_OPTIONS
  const { app, fake, clock, store, rowFor } = await rig(t)
  const address = 'orphan@example.com'
  await requestEmail(t, app, address)
  // Another worker claims the row and dies before sending.
  const [claimed] = await store.claimDue(clock.ms, leaseMs, 10)
  t.match(claimed, { recipient: address, attempts: 1 })

  t.equal(await app.outbox.runOnce(), 0, 'the claimed row is left alone')
  clock.advance(leaseMs / 1000 - 1)
  t.equal(await app.outbox.runOnce(), 0, 'until the lease runs out')
  t.equal(fake.requests.length, 0)

  clock.advance(1)
  t.equal(await app.outbox.runOnce(), 1, 'then taken over')
  t.match(await rowFor(address), { status: 'sent', attempts: 2 })
  t.equal(fake.emails.length, 1)
})

t.test('a worker that died after Resend accepted its send causes no second email', async (t) => {
  const { leaseMs } = DEFAULT_OUTBOX_OPTIONS
  const { app, fake, clock, store, rowFor } = await rig(t)
  const address = 'half-done@example.com'
  await requestEmail(t, app, address)
  // Another worker claims the row, sends it as the worker would, and dies before recording it.
  const [claimed] = await store.claimDue(clock.ms, leaseMs, 10)
  if (!claimed) throw new Error('nothing claimed')
  const built = await app.outbox.build(claimed)
  if (!('send' in built)) throw new Error(`not sent: ${JSON.stringify(built)}`)
  await shortTimeout(fake, clock).send(built.send as MailMessage, {
    idempotencyKey: keyFor(claimed),
  })
  t.equal(fake.emails.length, 1, 'Resend has the email')

  clock.advance(leaseMs / 1000)
  t.equal(await app.outbox.runOnce(), 1, 'the row is taken over after the lease')
  t.match(await rowFor(address), { status: 'sent', attempts: 2, providerId: fake.emails[0]?.id })
  t.equal(fake.emails.length, 1, 'the retry was recognised by its key: still one email')
  t.equal(fake.requests.length, 2)
})

t.test('no enumeration: every address gets the same answer; only active users mail', async (t) => {
  const { app, fake, rowFor, rowsFor } = await rig(t)
  const known = await apiLink(app, { email: 'known@example.com' })
  const disabled = await apiLink(app, { email: 'disabled@example.com' })
  const off = await app.inject({
    method: 'POST',
    url: `/v1/admin/users/${disabled.userId}/disable`,
    headers: asAdmin,
  })
  t.equal(off.statusCode, 200)

  const cases = [
    { name: 'a known active user', payload: { email: 'known@example.com' } },
    { name: 'a new address', payload: { email: 'new@example.com' } },
    { name: 'an unknown address', payload: { email: 'nobody@example.com', create_user: false } },
    { name: 'a disabled user', payload: { email: 'disabled@example.com', create_user: false } },
    { name: 'a disabled user (create_user)', payload: { email: 'disabled@example.com' } },
  ]
  const answers = []
  for (const { name, payload } of cases) {
    const res = await postLink(app, { deliver: 'email', ...payload })
    t.equal(res.statusCode, 202, `${name}: 202`)
    const body = res.json()
    t.same(Object.keys(body).sort(), ['delivery', 'expires_at', 'user_id'], `${name}: same keys`)
    t.match(body.user_id, UUID_V7, `${name}: user_id is a UUIDv7`)
    t.type(body.expires_at, 'number', `${name}: expires_at is a number`)
    t.equal(body.delivery, 'queued', `${name}: queued`)
    answers.push({ name, res, body })
  }
  const [first] = answers
  for (const { name, res, body } of answers) {
    t.equal(body.expires_at, first?.body.expires_at, `${name}: same expiry`)
    t.equal(res.headers['content-type'], first?.res.headers['content-type'])
    t.equal(res.headers['content-length'], first?.res.headers['content-length'], `${name}: length`)
    t.same(
      Object.keys(res.headers).sort(),
      Object.keys(first?.res.headers ?? {}).sort(),
      `${name}: same headers`,
    )
  }
  t.equal(answers[0]?.body.user_id, known.userId, 'a known user is named by their id')
  t.equal(answers[3]?.body.user_id, disabled.userId)

  const again = await postLink(app, {
    email: 'nobody@example.com',
    deliver: 'email',
    create_user: false,
  })
  t.equal(again.json().user_id, answers[2]?.body.user_id, 'an unknown address: the same id twice')
  t.notOk(
    [known.userId, disabled.userId, answers[1]?.body.user_id].includes(again.json().user_id),
    'and no real user’s id',
  )

  t.equal(fake.requests.length, 0, 'nothing sent before the worker runs')
  t.match(await rowsFor('nobody@example.com'), [{ status: 'pending' }, { status: 'pending' }])
  t.equal(await app.outbox.runOnce(), 6, 'every message is handled alike, sent or not')
  t.same(
    fake.emails.map((e) => e.to[0]).sort(),
    ['known@example.com', 'new@example.com'],
    'only the active users get an email',
  )
  t.equal(fake.requests.length, 2)
  const nobody = await rowsFor('nobody@example.com')
  t.match(nobody, [
    { status: 'suppressed', reason: 'unknown_address', userId: null },
    { status: 'suppressed', reason: 'unknown_address', userId: null },
  ])
  t.match(await rowsFor('disabled@example.com'), [
    { status: 'suppressed', reason: 'user_disabled', userId: disabled.userId },
    { status: 'suppressed', reason: 'user_disabled', userId: disabled.userId },
  ])
  t.equal((await rowFor('new@example.com')).status, 'sent')
})

/** A mailer whose sends hang until released: for proving the request never waits on one. */
function heldMailer() {
  const sent: MailMessage[] = []
  let release = () => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  let started = () => {}
  const firstStarted = new Promise<void>((resolve) => {
    started = resolve
  })
  let done = false
  const mailer: Mailer = {
    async send(message) {
      started()
      await released
      sent.push(message)
      return {}
    },
  }
  return {
    mailer,
    sent,
    firstStarted,
    get released() {
      return done
    },
    release() {
      done = true
      release()
    },
  }
}

t.test('no waiting: the answer does not wait for a send in progress', async (t) => {
  const held = heldMailer()
  // The worker runs on its own, woken by each accepted request, as in production.
  const { app } = await rig(t, { mailer: () => held.mailer, outbox: { autoStart: true } })
  // Released whatever happens, or closing the app would wait for the send forever. Teardowns run
  // last in, first out: this one before the app closes.
  t.teardown(() => held.release())

  await requestEmail(t, app, 'first@example.com')
  await held.firstStarted
  t.notOk(held.released, 'the worker is sending the first email and the provider has not answered')

  const second = await postLink(app, { email: 'second@example.com', deliver: 'email' })
  t.equal(second.statusCode, 202, 'a request answers 202 while a send is pending')
  t.equal(second.json().delivery, 'queued')
  const unknown = await postLink(app, {
    email: 'unknown@example.com',
    deliver: 'email',
    create_user: false,
  })
  t.equal(unknown.statusCode, 202, 'so does one for an unknown address')
  t.equal(held.sent.length, 0, 'nothing has been sent yet')

  const drained = app.outbox.runOnce()
  held.release()
  await drained
  t.same(
    held.sent.map((m) => m.to),
    ['first@example.com', 'second@example.com'],
    'both are sent once the provider answers',
  )
})

t.test('no waiting: a send hanging at Resend does not hold requests', async (t) => {
  const { app, fake, rowFor } = await rig(t, { mailer: shortTimeout })
  await requestEmail(t, app, 'hang-1@example.com')
  fake.hang()
  const run = app.outbox.runOnce()
  const res = await postLink(app, { email: 'hang-2@example.com', deliver: 'email' })
  t.equal(res.statusCode, 202, 'answered while the worker is busy')
  await run
  t.match(await rowFor('hang-1@example.com'), {
    status: 'pending',
    lastError: 'Resend did not answer within 200 ms',
  })
})

t.test(
  'a row of a kind this version has no handler for is left alone, and the rest go',
  async (t) => {
    const { app, fake, clock, store, rowFor } = await rig(t)
    await store.enqueue({
      kind: 'carrier-pigeon',
      userId: null,
      recipient: 'coop@example.com',
      payload: {},
      now: clock.ms,
    })
    await requestEmail(t, app, 'after@example.com')
    t.equal(await app.outbox.runOnce(), 1)
    // Each kind has its own lane (outbox/worker.ts): a kind this version does not know is never
    // claimed, so an instance of a newer version, during a rolling upgrade, can still send it.
    t.match(await rowFor('coop@example.com'), { status: 'pending', attempts: 0, lastError: null })
    t.match(await rowFor('after@example.com'), { status: 'sent' })
    t.equal(fake.emails.length, 1, 'one email')
  },
)
