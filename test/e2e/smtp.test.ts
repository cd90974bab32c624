import t from 'tap'
import { startFakeSmtp } from '../helpers/fake-smtp.js'
import { until } from '../helpers/poll.js'
import { freePort } from '../helpers/process.js'
import {
  confirmPosts,
  launchChromium,
  newTab,
  press,
  SESSION_COOKIE,
  startLatchkey,
  startTargetApp,
} from './helpers.js'

// The hosted flow in a real browser with the email sent over SMTP: the service's own worker
// delivers through nodemailer to a real SMTP server this test runs, and the person reads the
// link from what that server received. The first attempt is cut mid-message: the worker retries
// on its own and the person still gets exactly one email.

const fake = await startFakeSmtp()
t.teardown(() => fake.close())
const browser = await launchChromium()
t.teardown(() => browser.close())

const target = await startTargetApp(t, await freePort())
const latchkey = await startLatchkey(t, {
  HANDOFF: 'cookie',
  ALLOWED_REDIRECTS: target.url,
  MAIL_TRANSPORT: 'smtp',
  SMTP_URL: fake.url,
  MAIL_FROM: 'latchkey <login@example.test>',
})
target.use(latchkey)

/** The outbox row of the one email to `address`, as an operator sees it. */
async function outboxRow(address: string) {
  const res = await latchkey.admin('GET', '/v1/admin/outbox')
  const { messages } = res.json() as {
    messages: { to: string; status: string; attempts: number; last_error: string | null }[]
  }
  return messages.find((m) => m.to === address)
}

t.test('form, email over SMTP (cut once, retried), link, Continue: signed in', async (t) => {
  const opened = await newTab(browser)
  t.teardown(() => opened.context.close())
  const { page } = opened
  const address = 'smtp.person@example.com'
  fake.drop()

  await page.goto(`${latchkey.url}/login?${new URLSearchParams({ next: `${target.url}/whoami` })}`)
  await page.getByLabel('Email address').fill(address)
  await press(opened, 'Email me a sign-in link')
  await page.getByRole('heading', { name: 'Check your email' }).waitFor()

  // The worker's first attempt is cut mid-message; once it is recorded for a retry, the service's
  // clock is moved past the backoff, and the worker's next look at the queue sends it again.
  const retrying = await until(
    async () => {
      const row = await outboxRow(address)
      // A claimed row counts its attempt at once; the error comes with the outcome.
      return row?.status === 'pending' && row.last_error !== null ? row : undefined
    },
    'the first attempt recorded as failed',
    10,
  )
  t.match(retrying, {
    attempts: 1,
    last_error: 'the SMTP server closed the connection (ECONNECTION)',
  })
  t.equal(fake.emails.length, 0, 'nothing was accepted from the cut attempt')
  latchkey.clock.advance(5)

  const email = await fake.nextEmail(address)
  t.same(email.rcptTo, [address])
  t.equal(email.headers.from, 'latchkey <login@example.test>')
  const link = email.text?.match(/http:\/\/localhost:\d+\/login\/link\?token=\S+/)?.[0]
  t.ok(link, 'the email read from the SMTP server carries the link')
  t.ok(email.html?.includes((link ?? '').replace(/&/g, '&amp;')), 'so does its HTML part')
  t.equal(latchkey.fake.emails.length, 0, 'nothing went to Resend')
  await until(async () => (await outboxRow(address))?.status === 'sent', 'the row marked sent', 10)
  t.match(await outboxRow(address), { status: 'sent', attempts: 2 })
  t.equal(fake.emails.filter((e) => e.rcptTo.includes(address)).length, 1, 'exactly one email')

  await page.goto(link ?? '')
  await page.getByRole('heading', { name: 'Sign in to latchkey' }).waitFor()
  await press(opened, 'Continue')
  await page.getByRole('heading', { name: `Signed in as ${address}` }).waitFor()
  t.equal(new URL(page.url()).origin, target.url, 'arrived at the application')
  t.equal(confirmPosts(opened, latchkey), 1, 'with one click')
  t.ok(await opened.cookie(SESSION_COOKIE), 'with a session cookie')
})
