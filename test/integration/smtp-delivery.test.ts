import t, { type Test } from 'tap'
import { generateApiKey } from '../../src/auth/api-keys.js'
import type { Env } from '../../src/config/index.js'
import type { App } from '../../src/http/types.js'
import type { Store } from '../../src/store/index.js'
import type { OutboxMessage } from '../../src/store/outbox.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { build, PUBLIC_URL, type TestApp, testConfig, tokenOf } from '../helpers/app.js'
import { runCli, secretsEnv } from '../helpers/cli.js'
import { ManualClock } from '../helpers/clock.js'
import { type FakeSmtp, type SmtpEmail, startFakeSmtp } from '../helpers/fake-smtp.js'
import { postLink, postVerify } from '../helpers/http.js'
import { startService } from '../helpers/service.js'
import { tempDir } from '../helpers/temp.js'

// Delivery through SMTP end to end: MAIL_TRANSPORT=smtp and SMTP_URL from the environment, as in
// production, nodemailer talking to a real SMTP server (smtp-server) the test runs on loopback.
// Time moves only through the ManualClock and the worker runs only when a test says so, with
// `random` fixed: the first retry comes 2000 / 2 + 0.5 * 2000 / 2 = 1500 ms after a failure.

const MAIL_FROM = 'Latchkey Test <login@example.test>'
const LINK = new RegExp(`${PUBLIC_URL.replace(/[.]/g, '\\.')}/login/link\\?token=[A-Za-z0-9_-]+`)

const smtpEnv = (fake: FakeSmtp): Env => ({
  MAIL_TRANSPORT: 'smtp',
  SMTP_URL: fake.url,
  MAIL_FROM,
})

interface Rig {
  h: TestApp
  app: App
  fake: FakeSmtp
  store: Store
  clock: ManualClock
  rowFor(recipient: string): Promise<OutboxMessage>
}

async function rig(t: Test): Promise<Rig> {
  const fake = await startFakeSmtp()
  t.teardown(() => fake.close())
  const dataDir = tempDir(t)
  const clock = new ManualClock()
  const env = smtpEnv(fake)
  const database = testConfig(dataDir, env).database
  if (database.kind !== 'sqlite') throw new Error('tests run on SQLite')
  const store = openSqliteStore(database.file)
  t.teardown(() => store.close())
  const h = await build(t, {
    dataDir,
    clock,
    env,
    // undefined: the transport is built from MAIL_TRANSPORT, SMTP_URL and MAIL_FROM, as
    // `latchkey serve` builds it.
    overrides: { store, mailer: undefined, outbox: { random: () => 0.5 } },
  })
  return {
    h,
    app: h.app,
    fake,
    store,
    clock,
    async rowFor(recipient) {
      const rows = (await store.listOutbox({ limit: 1000 })).filter(
        (m) => m.recipient === recipient,
      )
      if (rows.length !== 1) throw new Error(`${rows.length} outbox rows for ${recipient}`)
      return rows[0] as OutboxMessage
    },
  }
}

async function requestEmail(t: Test, app: App, email: string) {
  const res = await postLink(app, { email, deliver: 'email' })
  t.equal(res.statusCode, 202, `POST /v1/links for ${email} answers 202`)
  return res
}

function linkIn(t: Test, email: SmtpEmail | undefined): string {
  const link = email?.text?.match(LINK)?.[0]
  t.ok(link, 'the email carries a sign-in link')
  return link ?? ''
}

const messageIdFor = (row: OutboxMessage) => `<latchkey-outbox-${row.id}@example.test>`

t.test(
  'POST /v1/links with deliver email: the email with the link arrives over SMTP',
  async (t) => {
    const { app, fake, clock, h, rowFor } = await rig(t)
    const address = 'ada@example.com'
    const res = await requestEmail(t, app, address)
    t.equal(fake.attempts, 0, 'nothing was sent before the answer')

    t.equal(await app.outbox.runOnce(), 1, 'the worker handles one message')
    t.equal(fake.emails.length, 1, 'exactly one email reached the SMTP server')
    const email = fake.emails[0]
    const row = await rowFor(address)
    t.match(email, { mailFrom: 'login@example.test', rcptTo: [address], user: fake.user })
    t.equal(email?.headers.from, MAIL_FROM)
    t.match(email?.subject, /latchkey/, 'the subject names the app')
    t.equal(email?.messageId, messageIdFor(row), "the outbox row's key is the Message-ID")
    t.match(row, { status: 'sent', attempts: 1, lastError: null, providerId: messageIdFor(row) })

    const token = tokenOf(linkIn(t, email))
    t.ok(email?.html?.includes(token), 'the HTML part carries the same link')
    t.notOk(h.logs.join('').includes(token), 'no log line holds the token')
    t.notOk(h.logs.join('').includes(fake.password), 'nor the relay password')

    clock.advance(5)
    const verified = await postVerify(app, { token })
    t.equal(verified.statusCode, 200, 'the emailed link verifies')
    t.equal(verified.json().user.id, res.json().user_id)
  },
)

t.test('dropped mid-message, retried after the backoff: exactly one email', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t)
  const address = 'dropped@example.com'
  await requestEmail(t, app, address)
  fake.drop()

  await app.outbox.runOnce()
  t.equal(fake.attempts, 1, 'the first attempt reached DATA')
  t.equal(fake.emails.length, 0, 'and was cut before the server accepted it')
  let row = await rowFor(address)
  t.match(row, {
    status: 'pending',
    attempts: 1,
    lastError: 'the SMTP server closed the connection (ECONNECTION)',
  })
  t.equal(row.nextAttemptAt, clock.ms + 1_500, 'retried after the jittered backoff')
  t.equal(await app.outbox.runOnce(), 0, 'not retried at once')

  clock.advance(1.5)
  t.equal(await app.outbox.runOnce(), 1, 'retried when the backoff ends')
  t.equal(fake.attempts, 2)
  row = await rowFor(address)
  t.match(row, { status: 'sent', attempts: 2, lastError: null })
  t.equal(fake.emails.filter((e) => e.rcptTo.includes(address)).length, 1, 'exactly one email')
  t.equal(fake.emails[0]?.messageId, messageIdFor(row))
  linkIn(t, fake.emails[0])

  clock.advance(3600)
  t.equal(await app.outbox.runOnce(), 0, 'a sent message is never sent again')
  t.equal(fake.attempts, 2)
})

t.test('451 is retried; 550 fails the row for good and sends nothing', async (t) => {
  const { app, fake, clock, rowFor } = await rig(t)
  fake.refuse('rcpt', 451, '4.7.1 greylisted, try again later')
  await requestEmail(t, app, 'grey@example.com')
  await app.outbox.runOnce()
  t.match(await rowFor('grey@example.com'), {
    status: 'pending',
    lastError: 'SMTP server answered 451 4.7.1 to RCPT TO',
  })
  clock.advance(1.5)
  await app.outbox.runOnce()
  t.match(await rowFor('grey@example.com'), { status: 'sent', attempts: 2 })

  fake.refuse('rcpt', 550, '5.1.1 <gone@example.com>: Recipient address rejected')
  await requestEmail(t, app, 'gone@example.com')
  await app.outbox.runOnce()
  const failed = await rowFor('gone@example.com')
  t.match(failed, { status: 'failed', attempts: 1 })
  t.equal(failed.lastError, 'SMTP server answered 550 5.1.1 to RCPT TO', 'no address in it')
  clock.advance(3600)
  await app.outbox.runOnce()
  t.equal(fake.emails.length, 1, 'only the greylisted email arrived')
})

t.test('a real `latchkey serve` with MAIL_TRANSPORT=smtp sends on its own', async (t) => {
  const fake = await startFakeSmtp()
  t.teardown(() => fake.close())
  const service = generateApiKey('backend', 'service')
  const secrets = await secretsEnv()
  const s = await startService(t, {
    ...secrets,
    API_KEYS: service.entry,
    DATA_DIR: tempDir(t),
    PUBLIC_URL,
    ...smtpEnv(fake),
  })
  const res = await s.request('/v1/links', {
    body: { email: 'serve@example.com', deliver: 'email' },
    apiKey: service.key,
  })
  t.equal(res.status, 202)
  const email = await fake.nextEmail('serve@example.com')
  linkIn(t, email)
  t.notOk(s.output().includes(fake.password), 'the relay password is not in the output')
})

t.test('`latchkey link --send` sends through SMTP too', async (t) => {
  const fake = await startFakeSmtp()
  t.teardown(() => fake.close())
  const run = await runCli(['link', 'cli@example.com', '--send'], {
    ...(await secretsEnv()),
    DATA_DIR: tempDir(t),
    LOG_LEVEL: 'silent',
    PUBLIC_URL,
    ...smtpEnv(fake),
  })
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /^Queued for cli@example\.com \(user [0-9a-f-]{36}\)/)
  t.equal(fake.emails.length, 1, 'sent before the command ended')
  linkIn(t, fake.emails[0])
})
