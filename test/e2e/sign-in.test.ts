import t, { type Test } from 'tap'
import { mustForm } from '../helpers/pages.js'
import {
  BINDING_COOKIE,
  confirmPosts,
  launchChromium,
  press,
  requestLink,
  SESSION_COOKIE,
  startPair,
  type Tab,
  tabFor,
} from './helpers.js'
import { reached, tour } from './tour.js'

// The hosted flow in a real browser, as a person lives it: the form, the email (captured by the
// fake Resend server the service really sends to), the link, one click, and the application.

const [browser, cookieMode, codeMode] = await Promise.all([
  launchChromium(),
  startPair(t, 'cookie'),
  startPair(t, 'code'),
])
t.teardown(() => browser.close())

const tab = (t: Test) => tabFor(t, browser)

const heading = (tab: Tab, name: string | RegExp) => tab.page.getByRole('heading', { name })

const setCookieNames = (res: Response) => res.headers.getSetCookie().map((c) => c.split('=')[0])

t.test('cookie handoff: form, email, link, one click, signed in at the target', async (t) => {
  const { latchkey, target } = cookieMode
  const me = await tab(t)
  const email = 'ada@example.com'
  const link = await requestLink(me, latchkey, email, `${target.url}/whoami`)
  t.match(link, /&next=http%3A%2F%2Flocalhost%3A\d+%2Fwhoami$/, 'the emailed link names the target')
  t.ok(await me.cookie(BINDING_COOKIE), 'the form marked this browser as the one that asked')

  await me.page.goto(link)
  await heading(me, 'Sign in to latchkey').waitFor()
  t.ok(
    await me.page.getByText('a•••@example.com').isVisible(),
    'the confirm page names the account',
  )
  t.notOk(await me.cookie(SESSION_COOKIE), 'opening the link signed no one in')

  await press(me, 'Continue')
  await heading(me, `Signed in as ${email}`).waitFor()
  t.equal(new URL(me.page.url()).origin, target.url, 'arrived at the target')
  t.equal(confirmPosts(me, latchkey), 1, 'with one click')
  const hop = me.responses.find(
    (r) => r.method === 'POST' && r.url === `${latchkey.url}/login/link`,
  )
  t.match(hop, { status: 303, location: `${target.url}/whoami` }, 'by a 303 to the exact target')

  const session = await me.cookie(SESSION_COOKIE)
  t.match(
    session,
    { secure: true, httpOnly: true, sameSite: 'Lax', path: '/', domain: 'localhost' },
    'the session cookie is __Host- shaped: Secure, HttpOnly, SameSite=Lax, Path=/, host-only',
  )
  const introspected = await latchkey.service('POST', '/v1/sessions/introspect', {
    jwt: session?.value,
  })
  t.match(introspected.json(), { active: true }, 'the cookie holds a live session JWT')
  t.notOk(await me.cookie(BINDING_COOKIE), 'the browser binding is spent')

  await me.page.goto(link)
  await heading(me, 'This link has already been used').waitFor()
  t.pass('the link works once')
})

t.test(
  'signing out: the app sends people to GET /logout; nobody can post it blindly',
  async (t) => {
    const { latchkey, target } = cookieMode
    const me = await tab(t)
    const email = 'grace@example.com'
    await me.page.goto(await requestLink(me, latchkey, email, `${target.url}/whoami`))
    await press(me, 'Continue')
    await heading(me, `Signed in as ${email}`).waitFor()
    const jwt = (await me.cookie(SESSION_COOKIE))?.value

    // A page of the application (another port: same site, another origin, like a sibling
    // subdomain) posts the sign-out form blindly: refused, and the session stays.
    await me.page.evaluate(
      `(() => {
      const form = document.createElement('form')
      form.method = 'post'
      form.action = ${JSON.stringify(`${latchkey.url}/logout`)}
      document.body.append(form)
      form.submit()
    })()`,
    )
    await heading(me, 'Request blocked').waitFor()
    t.equal((await me.cookie(SESSION_COOKIE))?.value, jwt, 'a blind post signs nobody out')

    // The way that works: a link to the sign-out page, which changes nothing until pressed.
    await me.page.goto(
      `${latchkey.url}/logout?${new URLSearchParams({ next: `${target.url}/whoami` })}`,
    )
    await heading(me, 'Sign out of latchkey?').waitFor()
    t.equal((await me.cookie(SESSION_COOKIE))?.value, jwt, 'opening the page signs nobody out')
    const answer = await press(me, 'Sign out')
    t.equal(answer.status(), 303)
    await heading(me, 'Not signed in').waitFor()
    t.equal(new URL(me.page.url()).origin, target.url, 'and back at the application')
    t.notOk(await me.cookie(SESSION_COOKIE), 'the session cookie is gone')
  },
)

t.test('signing out ends the session itself, not only the cookie', async (t) => {
  const { latchkey, target } = cookieMode
  const me = await tab(t)
  const email = 'lin@example.com'
  await me.page.goto(await requestLink(me, latchkey, email, `${target.url}/whoami`))
  await press(me, 'Continue')
  await heading(me, `Signed in as ${email}`).waitFor()
  const jwt = (await me.cookie(SESSION_COOKIE))?.value
  const introspect = async () =>
    (await latchkey.service('POST', '/v1/sessions/introspect', { jwt })).json()
  const live = await introspect()
  t.match(live, { active: true, client_id: 'hosted' }, 'the cookie holds a hosted session')
  const sessions = async () =>
    (await latchkey.admin('GET', `/v1/admin/users/${live.sub}/sessions`)).json().sessions
  t.match(await sessions(), [{ id: live.sid, client: 'hosted', ended_at: null }], 'one open row')

  await me.page.goto(`${latchkey.url}/logout`)
  await heading(me, 'Sign out of latchkey?').waitFor()
  t.equal((await press(me, 'Sign out')).status(), 303)
  await me.page.waitForURL(`${latchkey.url}/login`)
  t.notOk(await me.cookie(SESSION_COOKIE), 'the session cookie is gone')

  // A copy of the JWT taken before (a tab left open, a backend that cached it) is dead too.
  t.strictSame(
    await introspect(),
    { active: false, reason: 'session_ended' },
    'the old JWT introspects as session_ended',
  )
  const [row, ...others] = await sessions()
  t.equal(others.length, 0)
  t.match(row, { id: live.sid, client: 'hosted', end_reason: 'logout' }, 'listed as ended: logout')
  t.type(row.ended_at, 'string')
})

t.test('code handoff: form, email, link, one click, the app trades the code', async (t) => {
  const { latchkey, target } = codeMode
  const me = await tab(t)
  const email = 'grace@example.com'
  const link = await requestLink(me, latchkey, email, `${target.url}/callback`)

  await me.page.goto(link)
  await heading(me, 'Sign in to latchkey').waitFor()
  await press(me, 'Continue')
  await heading(me, `Signed in as ${email}`).waitFor()

  const arrived = new URL(me.page.url())
  t.equal(arrived.origin, target.url, 'arrived at the target')
  t.equal(arrived.pathname, '/callback')
  t.equal(confirmPosts(me, latchkey), 1, 'with one click')
  const [exchange, ...more] = target.exchanges
  t.equal(more.length, 0, 'one code reached the app')
  t.match(exchange, { status: 200, email }, 'and its backend traded it for the session')
  t.equal(arrived.searchParams.get('code'), exchange?.code, 'the code came in the URL')
  t.notOk(await me.cookie(SESSION_COOKIE), 'code mode sets no session cookie')

  const again = await latchkey.service('POST', '/v1/sessions/exchange', { code: exchange?.code })
  t.equal(again.statusCode, 401, 'the code works once')
  t.equal(again.json().code, 'token_used')

  // The app's backend keeps the session going with its refresh token, then signs the person out.
  const traded = exchange?.session
  const refresh = (refresh_token: string) =>
    latchkey.service('POST', '/v1/sessions/refresh', { refresh_token })
  const refreshed = await refresh(String(traded?.refresh_token))
  t.equal(refreshed.statusCode, 200, 'the refresh token from the exchange refreshes')
  const next = refreshed.json()
  t.equal(next.session_id, traded?.session_id, 'the same session')
  t.not(next.refresh_token, traded?.refresh_token, 'with the next refresh token')
  const ended = await latchkey.service('POST', '/v1/sessions/end', {
    refresh_token: next.refresh_token,
  })
  t.equal(ended.statusCode, 204, 'the app ends the session')
  const after = await refresh(next.refresh_token)
  t.equal(after.statusCode, 401)
  t.equal(after.json().code, 'session_ended', 'and its refresh token is refused')
})

t.test('scanners open the link first: it stays usable, one click still signs in', async (t) => {
  const { latchkey } = cookieMode
  const me = await tab(t)
  const email = 'scanned@example.com'
  const link = await requestLink(me, latchkey, email, '/')
  const token = new URL(link).searchParams.get('token') ?? ''

  for (const method of ['GET', 'HEAD'] as const) {
    for (let i = 1; i <= 5; i++) {
      const res = await fetch(link, { method, redirect: 'manual' })
      t.equal(res.status, 200, `${method} #${i}: the confirm page`)
      t.equal(res.headers.get('cache-control'), 'no-store', `${method} #${i}: not cached`)
      t.equal(res.headers.get('referrer-policy'), 'no-referrer')
      t.match(res.headers.get('content-security-policy'), /default-src 'none'/)
      t.notOk(setCookieNames(res).includes(SESSION_COOKIE), `${method} #${i}: no session`)
      if (method === 'GET') t.match(await res.text(), /Continue/)
    }
  }

  // A scanner that follows the link and presses what it finds, without the browser's cookies.
  const opened = await fetch(link, { redirect: 'follow' })
  // The hidden fields of the confirm form, as a scanner that follows the link would read them.
  const fields = new URLSearchParams(mustForm(await opened.text(), '/login/link'))
  t.equal(fields.get('token'), token, 'the scanner found the form')
  const post = (cookie?: string) =>
    fetch(`${latchkey.url}/login/link`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(cookie ? { cookie } : {}),
      },
      body: fields.toString(),
    })
  const bare = await post()
  t.equal(bare.status, 403, 'no cookies at all: refused (no CSRF cookie)')
  t.notOk(setCookieNames(bare).includes(SESSION_COOKIE))
  // One that keeps the cookies of its own visit gets the form through, and still no session.
  const csrfCookie = opened.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')
  const clicked = await post(csrfCookie)
  t.equal(clicked.status, 200, 'a scanner that clicks')
  t.match(await clicked.text(), /requested in another browser or on another device/, 'is asked')
  t.notOk(setCookieNames(clicked).includes(SESSION_COOKIE), 'and signs no one in')

  await me.page.goto(link)
  await heading(me, 'Sign in to latchkey').waitFor()
  await press(me, 'Continue')
  await me.page.waitForURL(`${latchkey.url}/`)
  t.equal(confirmPosts(me, latchkey), 1, 'the person signed in with one click')
  t.ok(await me.cookie(SESSION_COOKIE), 'in the browser that asked')
  t.notOk(latchkey.logs.join('').includes(token), 'no log line holds the token')
})

t.test('opened in another browser: an explicit confirmation, never a silent sign-in', async (t) => {
  const { latchkey } = cookieMode
  const asker = await tab(t)
  const email = 'elsewhere@example.com'
  const link = await requestLink(asker, latchkey, email, '/')

  const other = await tab(t)
  await other.page.goto(link)
  await heading(other, 'Sign in to latchkey').waitFor()
  await press(other, 'Continue')
  await heading(other, 'Sign in on this device?').waitFor()
  t.ok(
    await other.page.getByText('requested in another browser or on another device').isVisible(),
    'the page says the link was requested elsewhere',
  )
  t.ok(await other.page.getByText('e•••@example.com').isVisible(), 'and names the account')
  t.notOk(await other.cookie(SESSION_COOKIE), 'the other browser is not signed in')
  t.notOk(await asker.cookie(SESSION_COOKIE), 'nor is the one that asked')

  await press(other, 'Yes, sign in here')
  await other.page.waitForURL(`${latchkey.url}/`)
  t.ok(await other.cookie(SESSION_COOKIE), 'signed in after the second, explicit confirmation')
  t.equal(confirmPosts(other, latchkey), 2, 'two clicks in the other browser')
  t.notOk(await asker.cookie(SESSION_COOKIE), 'the asking browser still has no session')
})

t.test('a binding for another account also needs the explicit confirmation', async (t) => {
  const { latchkey } = cookieMode
  const me = await tab(t)
  const first = await requestLink(me, latchkey, 'first@example.com', '/')
  // The same browser then asks for a link for someone else: its binding now names them.
  await requestLink(me, latchkey, 'second@example.com', '/')
  await me.page.goto(first)
  await press(me, 'Continue')
  await heading(me, 'Sign in on this device?').waitFor()
  t.notOk(await me.cookie(SESSION_COOKIE), 'not signed in silently as the first account')
})

t.test('a link issued through the API is not browser-bound: one click anywhere', async (t) => {
  const { latchkey } = cookieMode
  const me = await tab(t)
  const { link } = await latchkey.apiLink('api@example.com')
  await me.page.goto(link)
  await press(me, 'Continue')
  await heading(me, 'You’re signed in').waitFor()
  t.ok(await me.cookie(SESSION_COOKIE), 'signed in')
})

// Every hosted page, reached as a person reaches it, logs no console error: a Content-Security-
// Policy violation is one. The same walk takes the pictures of `npm run screenshots`.
t.test('every hosted page, without a console error', (t) =>
  tour(t, browser, async (t, tab, name, heading) => {
    await reached(tab, heading)
    t.pass(`${name}: ${heading}`)
  }),
)
