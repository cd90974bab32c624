import { existsSync, statSync } from 'node:fs'
import t, { type Test } from 'tap'
import {
  launchChromium,
  newTab,
  press,
  requestLink,
  SCREENSHOTS,
  screenshot,
  startLatchkey,
  type Tab,
} from './helpers.js'

// Every hosted page as a person sees it, in Chromium at 800×900, written to
// test-results/screenshots/<name>.png (ignored by git; the README shows them). Each picture is
// taken only once the page says what it should, so a screenshot never shows the wrong page.

const [browser, latchkey] = await Promise.all([
  launchChromium(),
  startLatchkey({ HANDOFF: 'cookie' }),
])
t.teardown(async () => {
  await browser.close()
  await latchkey.close()
})

const written: string[] = []

async function tab(t: Test): Promise<Tab> {
  const opened = await newTab(browser)
  t.teardown(() => opened.context.close())
  return opened
}

/** Waits for the page's own heading, then takes its picture. */
async function shoot(t: Test, tab: Tab, name: string, heading: string): Promise<void> {
  await tab.page.getByRole('heading', { level: 1, name: heading }).waitFor()
  const path = await screenshot(tab.page, name)
  t.ok(statSync(path).size > 0, `${name}.png: ${heading}`)
  written.push(name)
}

t.test('the sign-in pages', async (t) => {
  const me = await tab(t)
  const { page } = me

  await page.goto(`${latchkey.url}/login`)
  await shoot(t, me, 'login', 'Sign in to latchkey')

  // The server's own check, past the browser's (which would stop the form first).
  await page.evaluate(`document.querySelector('form').noValidate = true`)
  await page.getByLabel('Email address').fill('ada.example.com')
  await press(me, 'Email me a sign-in link')
  await page.getByRole('alert').waitFor()
  t.equal(await page.getByRole('alert').textContent(), 'Enter a valid email address.')
  await shoot(t, me, 'login-error', 'Sign in to latchkey')

  const link = await requestLink(me, latchkey, 'ada@example.com')
  await shoot(t, me, 'sent', 'Check your email')

  await page.goto(link)
  await shoot(t, me, 'confirm', 'Sign in to latchkey')

  // The same link in another browser, before it is used: the explicit second confirmation.
  const other = await tab(t)
  await other.page.goto(link)
  await press(other, 'Continue')
  await shoot(t, other, 'elsewhere-confirm', 'Sign in on this device?')

  await press(me, 'Continue')
  await shoot(t, me, 'signed-in', 'You’re signed in')

  // Where an application sends people to sign out; its button signs this browser out.
  await page.goto(`${latchkey.url}/logout?next=/login`)
  await shoot(t, me, 'logout', 'Sign out of latchkey?')
  await press(me, 'Sign out')
  await page.getByRole('heading', { name: 'Sign in to latchkey' }).waitFor()

  // A form whose CSRF cookie is gone (the browser dropped it, the page sat open too long).
  const stale = await latchkey.apiLink('stale@example.com')
  await page.goto(stale.link)
  await me.context.clearCookies()
  await press(me, 'Continue', { refused: true })
  await shoot(t, me, 'forbidden', 'Request blocked')

  t.same(me.consoleErrors, [], 'no console errors (a CSP violation would be one)')
  t.same(other.consoleErrors, [])
})

t.test('each link error', async (t) => {
  const me = await tab(t)
  const { page } = me
  const open = async (link: string, name: string, heading: string) => {
    await page.goto(link)
    await shoot(t, me, name, heading)
    const token = new URL(link).searchParams.get('token') ?? ''
    t.notOk((await page.content()).includes(token), `${name}: the token is not echoed`)
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
})

t.test('past the recipient limit', async (t) => {
  // A service of its own that sends one email per address: the second request is refused.
  const limited = await startLatchkey({ HANDOFF: 'cookie', RATE_LIMIT_RECIPIENT: '1/15m' })
  t.teardown(() => limited.close())
  const me = await tab(t)
  await requestLink(me, limited, 'busy@example.com')
  await me.page.goto(`${limited.url}/login`)
  await me.page.getByLabel('Email address').fill('busy@example.com')
  const answer = await press(me, 'Email me a sign-in link')
  t.equal(answer.status(), 429)
  t.equal(answer.headers()['retry-after'], '900')
  await shoot(t, me, 'rate-limited', 'Too many sign-in emails')
  t.same(me.consoleErrors, [], 'no console errors')
})

t.test('every screenshot is on disk', async (t) => {
  const expected = [
    'login',
    'login-error',
    'sent',
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
  ]
  t.same([...written].sort(), [...expected].sort(), 'one picture per page')
  for (const name of expected) t.ok(existsSync(`${SCREENSHOTS}${name}.png`), `${name}.png`)
})
