import t, { type Test } from 'tap'
import { until } from '../helpers/poll.js'
import {
  type Latchkey,
  launchChromium,
  press,
  requestLink,
  SESSION_COOKIE,
  startLatchkey,
  type Tab,
  tabFor,
} from './helpers.js'

// One-click recovery and "this wasn't me" in Chromium, against the real service (fake Resend, real SQLite, the
// outbox worker running on its own): an expired link renewed with one click, and a "this wasn't
// me" report that stops the emails for a day, kills the pending link, and ends sessions only on
// the second button. The service's clock is a ManualClock on the real time, moved forward.

const browser = await launchChromium()
t.teardown(() => browser.close())

const tab = (t: Test) => tabFor(t, browser)

const heading = (tab: Tab, name: string) =>
  tab.page.getByRole('heading', { level: 1, name }).waitFor()

/** The sign-in link and the report link of the next email to `to`. */
async function nextLinks(latchkey: Latchkey, to: string) {
  const text = (await latchkey.nextEmail(to)).text ?? ''
  const link = text.match(/http:\/\/\S+\/login\/link\?token=\S+/)?.[0]
  const report = text.match(/http:\/\/\S+\/login\/report\?token=\S+/)?.[0]
  if (!link || !report) throw new Error(`the email lacks a link: ${text}`)
  return { link, report }
}

/** Asks for a sign-in email from the form, in `tab`, without waiting for it. */
async function ask(tab: Tab, latchkey: Latchkey, email: string) {
  await tab.page.goto(`${latchkey.url}/login`)
  await tab.page.getByLabel('Email address').fill(email)
  await press(tab, 'Email me a sign-in link')
  await heading(tab, 'Check your email')
}

const introspect = async (latchkey: Latchkey, jwt: string) =>
  (await latchkey.service('POST', '/v1/sessions/introspect', { jwt })).json() as {
    active: boolean
  }

t.test('an expired link: one click, a new email, signed in', async (t) => {
  const latchkey = await startLatchkey(t, { HANDOFF: 'cookie' })
  const me = await tab(t)
  const old = await requestLink(me, latchkey, 'ada@example.com')
  latchkey.clock.advance(901)

  await me.page.goto(old)
  await heading(me, 'This link has expired')
  t.notOk((await me.page.innerText('body')).includes(new URL(old).searchParams.get('token') ?? ''))
  const answer = await press(me, 'Email me a new link')
  t.equal(answer.status(), 200)
  await heading(me, 'Check your email')
  t.ok(await me.page.getByText('a•••@example.com').isVisible(), 'the same person, masked')
  t.notOk((await me.page.content()).includes('ada@example.com'), 'the old link names nobody')

  const fresh = await latchkey.nextLink('ada@example.com')
  t.not(fresh, old, 'a new link arrived')
  await me.page.goto(fresh)
  await press(me, 'Continue')
  await heading(me, 'You’re signed in')
  t.ok(await me.cookie(SESSION_COOKIE), 'signed in, with one click')
  t.same(me.consoleErrors, [])
})

t.test('"this wasn’t me": emails stop for a day, the link dies, sessions stay', async (t) => {
  const latchkey = await startLatchkey(t, { HANDOFF: 'cookie' })
  const email = 'bob@example.com'
  const me = await tab(t)
  const mine = await requestLink(me, latchkey, email)
  await me.page.goto(mine)
  await press(me, 'Continue')
  await heading(me, 'You’re signed in')
  const jwt = (await me.cookie(SESSION_COOKIE))?.value ?? ''
  const userId = (
    (await latchkey.admin('GET', `/v1/admin/users?email=${email}`)).json() as {
      users: { id: string }[]
    }
  ).users[0]?.id

  // Someone else asks for a link to Bob's address.
  const stranger = await tab(t)
  await ask(stranger, latchkey, email)
  const { link: pending, report } = await nextLinks(latchkey, email)

  await me.page.goto(report)
  await heading(me, 'Didn’t ask to sign in?')
  t.ok(await me.page.getByText('b•••@example.com').isVisible(), 'names the account, masked')
  await press(me, 'Stop these sign-in emails')
  await heading(me, 'Thanks, we’ve stopped it')

  await stranger.page.goto(pending)
  await heading(stranger, 'This link has already been used')

  // The stranger asks again: the same page, and no email (the row is suppressed, reported).
  const sent = latchkey.fake.emails.length
  await ask(stranger, latchkey, email)
  await until(async () => {
    const rows = (
      await latchkey.admin('GET', `/v1/admin/outbox?kind=email&user_id=${userId}&limit=1`)
    ).json().messages as { status: string; reason: string }[]
    return rows[0]?.status === 'suppressed' && rows[0].reason === 'reported'
  }, 'the request suppressed')
  t.equal(latchkey.fake.emails.length, sent, 'nothing was sent')
  t.equal((await introspect(latchkey, jwt)).active, true, 'Bob’s session stays')

  // The second, explicit button also ends every session.
  await me.page.goto(report)
  await press(me, 'Also sign me out everywhere')
  await heading(me, 'Thanks, we’ve stopped it')
  t.ok(await me.page.getByText('Every session of this account has ended').isVisible())
  t.equal((await introspect(latchkey, jwt)).active, false, 'the session ended')
  const sessions = (await latchkey.admin('GET', `/v1/admin/users/${userId}/sessions`)).json()
    .sessions as { end_reason: string }[]
  t.same(
    sessions.map((s) => s.end_reason),
    ['reported'],
    'ended: reported',
  )

  // A day later, sign-in emails flow again.
  latchkey.clock.advance(24 * 3600)
  const again = await requestLink(me, latchkey, email)
  await me.page.goto(again)
  await press(me, 'Continue')
  await heading(me, 'You’re signed in')
  t.same(me.consoleErrors, [])
  t.same(stranger.consoleErrors, [])
})
