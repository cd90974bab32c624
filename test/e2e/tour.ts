import type { Browser } from 'playwright-core'
import type { Test } from 'tap'
import { ManualClock } from '../helpers/clock.js'
import { type Latchkey, newTab, press, requestLink, startLatchkey, type Tab } from './helpers.js'

/**
 * Every hosted page as a person meets it, in Chromium, each reached the way a person reaches it.
 * `visit` is called once per page, as soon as the page shows its own heading: the end-to-end run
 * only checks the heading, `npm run screenshots` also takes the picture. Every page is checked to
 * log no console error (a Content-Security-Policy violation is one).
 */
export type Visit = (t: Test, tab: Tab, name: string, heading: string) => Promise<void>

/** The name of every page the tour visits. */
export const PAGES = [
  'login',
  'login-error',
  'sent',
  'sent-code-error',
  'confirm',
  'elsewhere-confirm',
  'signed-in',
  'logout',
  'forbidden',
  'error-used',
  'error-revoked',
  'error-disabled',
  'error-invalid',
  'error-expired',
  'rate-limited',
  'report',
  'reported',
] as const

/** Waits for the page's own heading: what a visit needs before anything else. */
export async function reached(tab: Tab, heading: string): Promise<void> {
  await tab.page.getByRole('heading', { level: 1, name: heading }).waitFor()
}

export async function tour(t: Test, browser: Browser, visit: Visit): Promise<void> {
  const latchkey = await startLatchkey(t, { HANDOFF: 'cookie' })
  const tab = async (t: Test): Promise<Tab> => {
    const opened = await newTab(browser)
    t.teardown(() => opened.context.close())
    return opened
  }
  await t.test('the sign-in pages', (t) => signInPages(t, latchkey, tab, visit))
  await t.test('each link error', (t) => linkErrors(t, latchkey, tab, visit))
  await t.test('past the recipient limit', (t) => recipientLimit(t, tab, visit))
  await t.test('"this wasn’t me"', (t) => reportPages(t, latchkey, tab, visit))
}

type OpenTab = (t: Test) => Promise<Tab>

async function signInPages(t: Test, latchkey: Latchkey, tab: OpenTab, visit: Visit) {
  const me = await tab(t)
  const { page } = me

  await page.goto(`${latchkey.url}/login`)
  await visit(t, me, 'login', 'Sign in to latchkey')

  // The server's own check, past the browser's (which would stop the form first).
  await page.evaluate(`document.querySelector('form').noValidate = true`)
  await page.getByLabel('Email address').fill('ada.example.com')
  await press(me, 'Email me a sign-in link')
  await page.getByRole('alert').waitFor()
  t.equal(await page.getByRole('alert').textContent(), 'Enter a valid email address.')
  await visit(t, me, 'login-error', 'Sign in to latchkey')

  const link = await requestLink(me, latchkey, 'ada@example.com')
  await visit(t, me, 'sent', 'Check your email')

  // A mistyped code: the same page, the message by the field.
  await page.getByLabel('Sign-in code').fill('ABCD-EFGH')
  const wrong = await press(me, 'Sign in with code')
  t.equal(wrong.status(), 401)
  await page.getByRole('alert').waitFor()
  await visit(t, me, 'sent-code-error', 'Check your email')

  await page.goto(link)
  await visit(t, me, 'confirm', 'Sign in to latchkey')

  // The same link in another browser, before it is used: the explicit second confirmation.
  const other = await tab(t)
  await other.page.goto(link)
  await press(other, 'Continue')
  await visit(t, other, 'elsewhere-confirm', 'Sign in on this device?')

  await press(me, 'Continue')
  await visit(t, me, 'signed-in', 'You’re signed in')

  // Where an application sends people to sign out; its button signs this browser out.
  await page.goto(`${latchkey.url}/logout?next=/login`)
  await visit(t, me, 'logout', 'Sign out of latchkey?')
  await press(me, 'Sign out')
  await page.getByRole('heading', { name: 'Sign in to latchkey' }).waitFor()

  // A form whose CSRF cookie is gone (the browser dropped it, the page sat open too long).
  const stale = await latchkey.apiLink('stale@example.com')
  await page.goto(stale.link)
  await me.context.clearCookies()
  await press(me, 'Continue', { refused: true })
  await visit(t, me, 'forbidden', 'Request blocked')

  t.same(me.consoleErrors, [], 'no console errors (a CSP violation would be one)')
  t.same(other.consoleErrors, [])
}

async function linkErrors(t: Test, latchkey: Latchkey, tab: OpenTab, visit: Visit) {
  const me = await tab(t)
  const { page } = me
  const open = async (link: string, name: string, heading: string) => {
    await page.goto(link)
    await visit(t, me, name, heading)
    const token = new URL(link).searchParams.get('token') ?? ''
    // An expired or used link's page posts its token back from a hidden field ("Email me a new
    // link"); no page shows it.
    const recoverable = name === 'error-expired' || name === 'error-used'
    const hidden = await page.locator('input[name="token"]').count()
    t.equal(hidden, recoverable ? 1 : 0, `${name}: the token only in the recovery form`)
    t.notOk((await page.innerText('body')).includes(token), `${name}: the token is not shown`)
    t.equal(
      await page.getByRole('button', { name: 'Email me a new link' }).count(),
      recoverable ? 1 : 0,
      `${name}: one-click recovery only for an expired or used link`,
    )
    t.ok(
      await page.getByRole('button', { name: 'Send me a new link' }).isVisible(),
      `${name}: offers a new link`,
    )
  }

  const used = await latchkey.apiLink('used@example.com')
  const consumed = await latchkey.service('POST', '/v1/links/verify', {
    token: new URL(used.link).searchParams.get('token'),
  })
  t.equal(consumed.statusCode, 200)
  await open(used.link, 'error-used', 'This link has already been used')

  const revoked = await latchkey.apiLink('revoked@example.com')
  const revoke = await latchkey.admin('POST', `/v1/admin/users/${revoked.userId}/revoke`)
  t.equal(revoke.statusCode, 200)
  await open(revoked.link, 'error-revoked', 'This link has been cancelled')

  const disabled = await latchkey.apiLink('disabled@example.com')
  const disable = await latchkey.admin('POST', `/v1/admin/users/${disabled.userId}/disable`)
  t.equal(disable.statusCode, 200)
  await open(disabled.link, 'error-disabled', 'This account can’t sign in')

  const fine = await latchkey.apiLink('invalid@example.com')
  const url = new URL(fine.link)
  const token = url.searchParams.get('token') ?? ''
  // One character of the MAC changed, as a mangled copy and paste would.
  const flipped = `${token.slice(0, 50)}${token[50] === 'A' ? 'B' : 'A'}${token.slice(51)}`
  url.searchParams.set('token', flipped)
  await open(url.href, 'error-invalid', 'This link doesn’t work')

  // Last: the service's clock moves on past the link's life.
  const expired = await latchkey.apiLink('expired@example.com', { ttl_seconds: 60 })
  latchkey.clock.advance(61)
  await open(expired.link, 'error-expired', 'This link has expired')

  t.same(me.consoleErrors, [], 'no console errors')
}

async function recipientLimit(t: Test, tab: OpenTab, visit: Visit) {
  // A service of its own that sends one email per address: the second request is refused. Its
  // time stands still, so the wait it names is the whole window however slow the machine is.
  const limited = await startLatchkey(
    t,
    { HANDOFF: 'cookie', RATE_LIMIT_RECIPIENT: '1/15m' },
    new ManualClock(Date.now()),
  )
  const me = await tab(t)
  await requestLink(me, limited, 'busy@example.com')
  await me.page.goto(`${limited.url}/login`)
  await me.page.getByLabel('Email address').fill('busy@example.com')
  const answer = await press(me, 'Email me a sign-in link')
  t.equal(answer.status(), 429)
  t.equal(answer.headers()['retry-after'], '900')
  await visit(t, me, 'rate-limited', 'Too many sign-in emails')
  t.same(me.consoleErrors, [], 'no console errors')
}

/** The report link of a sign-in email ("this wasn't me"), and the page it opens. */
async function reportPages(t: Test, latchkey: Latchkey, tab: OpenTab, visit: Visit) {
  const me = await tab(t)
  const { page } = me
  await page.goto(`${latchkey.url}/login`)
  await page.getByLabel('Email address').fill('grace@example.com')
  await press(me, 'Email me a sign-in link')
  const email = await latchkey.nextEmail('grace@example.com')
  const report = email.text?.match(/http:\/\/\S+\/login\/report\?token=\S+/)?.[0]
  t.ok(report, 'the email carries a report link')
  await page.goto(report ?? '')
  await visit(t, me, 'report', 'Didn’t ask to sign in?')
  await press(me, 'Stop these sign-in emails')
  await visit(t, me, 'reported', 'Thanks, we’ve stopped it')
  t.same(me.consoleErrors, [], 'no console errors')
}
