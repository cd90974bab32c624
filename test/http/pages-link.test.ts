import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import t from 'tap'
import { asAdmin, asService, build } from '../helpers/app.js'
import { apiLink, postVerify } from '../helpers/http.js'
import {
  adminAction,
  assertNoSession,
  assertSessionCookie,
  BROWSER_BOUND,
  Browser,
  COOKIE,
  flagsOf,
  formFields,
  HEADINGS,
  heading,
  mailedLink,
  mustForm,
  nextIn,
  openAndConfirm,
  pathOf,
  postIntrospect,
  requestLink,
  setCookie,
  tokenIn,
  userByEmail,
} from '../helpers/pages.js'

const h = await build(t)
const { app, clock } = h

let counter = 0
const freshEmail = (name = 'link') => `${name}-${++counter}@example.com`

/** A link requested from the login form by `b`, and the emailed link. */
async function formLink(b: Browser, email: string, next?: string): Promise<string> {
  const sent = await requestLink(b, email, next === undefined ? {} : { next })
  if (sent.statusCode !== 200) throw new Error(`POST /login answered ${sent.statusCode}`)
  return mailedLink(h, email)
}

/** The API's dry run: the link still verifies, nothing used. */
const stillUsable = async (link: string) => {
  const next = nextIn(link)
  const res = await postVerify(app, {
    token: tokenIn(link),
    consume: false,
    ...(next === undefined ? {} : { redirect_to: next }),
  })
  return res.statusCode === 200
}

/** A page of the link flow: its headers, and it sets no session. */
function assertSafePage(t: Test, res: LightMyRequestResponse, what: string): void {
  t.equal(res.headers['cache-control'], 'no-store', `${what}: no-store`)
  t.equal(res.headers['referrer-policy'], 'no-referrer', `${what}: no-referrer`)
  assertNoSession(t, res, what)
  t.notOk(setCookie(res, COOKIE.binding), `${what}: the binding cookie is not touched`)
}

t.test('scanners open the link as often as they like: nothing is used, nothing set', async (t) => {
  const email = freshEmail('scanned')
  const person = new Browser(app)
  const link = await formLink(person, email, '/dashboard?tab=2')
  t.equal(nextIn(link), '/dashboard?tab=2', 'the link carries the target')

  const scanner = new Browser(app)
  for (let i = 1; i <= 5; i++) {
    const res = await scanner.get(link, {})
    t.equal(res.statusCode, 200, `GET ${i}: the confirm page`)
    t.match(heading(res.body), HEADINGS.confirm)
    t.match(res.body, /s•••@example\.com/, 'names the account, masked')
    t.notOk(res.body.includes(email), 'never the whole address')
    assertSafePage(t, res, `GET ${i}`)
    t.match(res.headers['content-security-policy'], /default-src 'none'/)
  }
  for (let i = 1; i <= 5; i++) {
    const res = await scanner.head(link)
    t.equal(res.statusCode, 200, `HEAD ${i}`)
    t.equal(res.body, '', `HEAD ${i}: no body`)
    assertSafePage(t, res, `HEAD ${i}`)
  }
  const bare = await app.inject({ method: 'GET', url: pathOf(link) })
  t.equal(bare.statusCode, 200, 'a GET with no cookies and no headers: the confirm page')
  assertSafePage(t, bare, 'cookieless GET')
  const headBare = await app.inject({ method: 'HEAD', url: pathOf(link) })
  t.equal(headBare.statusCode, 200, 'a cookieless HEAD')
  assertSafePage(t, headBare, 'cookieless HEAD')

  t.notOk(scanner.cookies.has(COOKIE.session), 'the scanner holds no session')
  t.ok(await stillUsable(link), 'the link still verifies (consume: false)')
  t.equal((await userByEmail(app, email))?.last_login_at, null, 'nobody signed in yet')

  // The person, in the browser that asked: one click.
  const page = await person.get(link)
  t.equal(page.statusCode, 200)
  const form = mustForm(page.body, '/login/link')
  t.same(Object.keys(form).sort(), ['csrf', 'next', 'token'], 'the button posts token and next')
  t.equal(form.next, '/dashboard?tab=2')
  const res = await person.post('/login/link', form)
  t.equal(res.statusCode, 303, 'signed in with one POST: 303')
  t.equal(res.headers.location, '/dashboard?tab=2', 'to the target')
  t.equal(res.headers['cache-control'], 'no-store', 'the hop is not cached')
  const jwt = assertSessionCookie(t, res)
  const active = await postIntrospect(app, jwt)
  t.match(active, { active: true, sub: (await userByEmail(app, email))?.id }, 'an active session')
  t.ok(
    res.cookies.some((c) => c.name === COOKIE.binding),
    'the binding cookie is cleared',
  )
  t.notOk(person.cookies.has(COOKIE.binding), 'the browser dropped it')
  t.type((await userByEmail(app, email))?.last_login_at, 'string', 'the sign-in is recorded')

  const replay = await person.post('/login/link', form)
  t.equal(replay.statusCode, 400, 'the link works once')
  t.match(heading(replay.body), HEADINGS.token_used)
  assertNoSession(t, replay, 'a replay')
  t.notOk(await stillUsable(link), 'used up')
})

t.test('without a target: 200 "signed in" page and the session cookie', async (t) => {
  const email = freshEmail('plain')
  const b = new Browser(app)
  const link = await formLink(b, email)
  t.equal(nextIn(link), undefined)
  const res = await openAndConfirm(b, link)
  t.equal(res.statusCode, 200)
  t.match(heading(res.body), HEADINGS.signedIn)
  t.ok(res.body.includes(email), 'names the account')
  t.equal(res.headers['cache-control'], 'no-store')
  t.notOk(res.headers.location, 'no redirect')
  const jwt = assertSessionCookie(t, res)
  t.equal((await postIntrospect(app, jwt)).active, true)
})

t.test('the confirm page changes nothing even for a browser that asked', async (t) => {
  const email = freshEmail('peek')
  const b = new Browser(app)
  const link = await formLink(b, email)
  for (let i = 0; i < 3; i++) {
    const res = await b.get(link)
    t.equal(res.statusCode, 200)
    assertSafePage(t, res, `GET ${i + 1}`)
  }
  t.ok(b.cookies.has(COOKIE.binding), 'the binding survives GETs')
  t.ok(await stillUsable(link))
})

t.test('browser binding', async (t) => {
  t.test('another browser gets the explicit confirmation; nothing signs in silently', async (t) => {
    const email = freshEmail('elsewhere')
    const link = await formLink(new Browser(app), email, '/inbox')
    t.ok(flagsOf(tokenIn(link)) & BROWSER_BOUND, 'a browser-bound link')

    const other = new Browser(app)
    const res = await openAndConfirm(other, link)
    t.equal(res.statusCode, 200, 'a page, not a redirect')
    t.match(heading(res.body), HEADINGS.elsewhere, 'the "requested elsewhere" page')
    t.match(res.body, /e•••@example\.com/, 'names the account, masked')
    assertSafePage(t, res, 'the elsewhere page')
    t.notOk(res.headers.location)
    t.ok(await stillUsable(link), 'nothing consumed')
    t.equal((await userByEmail(app, email))?.last_login_at, null, 'nobody signed in')

    const form = mustForm(res.body, '/login/link')
    t.equal(form.elsewhere, 'confirmed', 'the second button says so')
    t.equal(form.next, '/inbox', 'and keeps the target')
    t.equal(form.token, tokenIn(link))
    const confirmed = await other.post('/login/link', form)
    t.equal(confirmed.statusCode, 303, 'signed in after the explicit confirmation')
    t.equal(confirmed.headers.location, '/inbox')
    t.equal((await postIntrospect(app, assertSessionCookie(t, confirmed))).active, true)
  })

  t.test('the elsewhere confirmation still needs the CSRF token and same origin', async (t) => {
    const email = freshEmail('elsewhere-csrf')
    const link = await formLink(new Browser(app), email)
    const other = new Browser(app)
    const form = mustForm((await openAndConfirm(other, link)).body, '/login/link')
    const crossSite = await other.post('/login/link', form, { 'sec-fetch-site': 'cross-site' })
    t.equal(crossSite.statusCode, 403)
    t.match(heading(crossSite.body), HEADINGS.forbidden)
    const stranger = new Browser(app)
    await stranger.get('/login')
    const forged = await stranger.post('/login/link', form)
    t.equal(forged.statusCode, 403, "another browser's form token")
    assertNoSession(t, forged)
    t.ok(await stillUsable(link))
  })

  t.test('a binding cookie for another user is no binding', async (t) => {
    const email = freshEmail('victim')
    const link = await formLink(new Browser(app), email)
    const other = new Browser(app)
    await formLink(other, freshEmail('asker'))
    t.ok(other.cookies.has(COOKIE.binding), 'this browser is bound, to another user')
    const res = await openAndConfirm(other, link)
    t.equal(res.statusCode, 200)
    t.match(heading(res.body), HEADINGS.elsewhere)
    assertNoSession(t, res)
    t.ok(await stillUsable(link))
  })

  t.test('a tampered binding cookie is no binding', async (t) => {
    const email = freshEmail('tamper')
    const asker = new Browser(app)
    const link = await formLink(asker, email)
    const victimId = (await userByEmail(app, email))?.id ?? ''
    const good = asker.cookies.get(COOKIE.binding) ?? ''
    const [id = '', at = '', mac = ''] = decodeURIComponent(good).split('.')
    t.not(id, victimId, 'the user is named by a keyed hash, not in clear')
    t.match(id, /^[\w-]{43}$/, 'the cookie as browser.ts writes it: hash.time.mac')

    const otherId = (await apiLink(app, { email: freshEmail('x'), create_user: true })).userId
    const flip = (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`
    const forgeries: [string, string][] = [
      ['a changed MAC', `${id}.${at}.${flip(mac)}`],
      ['no MAC', `${id}.${at}`],
      ['a later time', `${id}.${Number(at) + 1}.${mac}`],
      ["another user's MAC", `${otherId}.${at}.${mac}`],
      ['garbage', 'garbage'],
      ['too long', 'x'.repeat(600)],
    ]
    // the MAC of the other cookie, with this user's id
    const mine = new Browser(app)
    await formLink(mine, freshEmail('forger'))
    const [, mineAt = '', mineMac = ''] = decodeURIComponent(
      mine.cookies.get(COOKIE.binding) ?? '',
    ).split('.')
    forgeries.push(["a MAC made for someone else, this user's id", `${id}.${mineAt}.${mineMac}`])

    for (const [name, value] of forgeries) {
      const b = new Browser(app)
      b.cookies.set(COOKIE.binding, value)
      const res = await openAndConfirm(b, link)
      t.equal(res.statusCode, 200, `${name}: 200`)
      t.match(heading(res.body), HEADINGS.elsewhere, `${name}: the elsewhere page`)
      assertNoSession(t, res, name)
    }
    t.ok(await stillUsable(link), 'nothing consumed')

    const copied = new Browser(app)
    copied.cookies.set(COOKIE.binding, good)
    const res = await openAndConfirm(copied, link)
    t.equal(res.statusCode, 200, 'the untouched cookie signs in with one click')
    t.match(heading(res.body), HEADINGS.signedIn)
  })

  t.test('a link issued through the API signs in with one POST, in any browser', async (t) => {
    const { link, token } = await apiLink(app, {
      email: freshEmail('api'),
      create_user: true,
      redirect_to: '/home',
    })
    t.equal(flagsOf(token) & BROWSER_BOUND, 0, 'not browser-bound')
    const res = await openAndConfirm(new Browser(app), link)
    t.equal(res.statusCode, 303, 'no elsewhere step')
    t.equal(res.headers.location, '/home')
    assertSessionCookie(t, res)
  })

  t.test('"elsewhere=confirmed" does not help a link that cannot be used', async (t) => {
    const email = freshEmail('elsewhere-used')
    const link = await formLink(new Browser(app), email)
    const b = new Browser(app)
    const form = mustForm((await openAndConfirm(b, link)).body, '/login/link')
    t.equal(form.elsewhere, 'confirmed')
    t.equal((await postVerify(app, { token: tokenIn(link) }, asService)).statusCode, 200)
    const res = await b.post('/login/link', form)
    t.equal(res.statusCode, 400)
    t.match(heading(res.body), HEADINGS.token_used)
    assertNoSession(t, res)
  })
})

t.test('link errors: a sentence per reason, on GET and on POST, never the token', async (t) => {
  /** Each case: a link, made unusable the way its name says. */
  const cases: [keyof typeof HEADINGS, () => Promise<string>][] = [
    [
      'token_expired',
      async () => {
        const { link } = await apiLink(app, {
          email: freshEmail('expired'),
          create_user: true,
          ttl_seconds: 60,
        })
        clock.advance(60)
        return link
      },
    ],
    [
      'token_used',
      async () => {
        const { link, token } = await apiLink(app, {
          email: freshEmail('used'),
          create_user: true,
        })
        t.equal((await postVerify(app, { token })).statusCode, 200, 'used through the API')
        return link
      },
    ],
    [
      'token_used',
      async () => {
        // a newer link of the same user was used: this one is void too
        const email = freshEmail('superseded')
        const { link } = await apiLink(app, { email, create_user: true })
        const { token } = await apiLink(app, { email })
        t.equal((await postVerify(app, { token })).statusCode, 200)
        return link
      },
    ],
    [
      'token_revoked',
      async () => {
        const { link, userId } = await apiLink(app, {
          email: freshEmail('revoked'),
          create_user: true,
        })
        await adminAction(app, userId, 'revoke')
        return link
      },
    ],
    [
      'user_disabled',
      async () => {
        const { link, userId } = await apiLink(app, {
          email: freshEmail('disabled'),
          create_user: true,
        })
        await adminAction(app, userId, 'disable')
        return link
      },
    ],
    [
      'token_invalid',
      async () => {
        const { link, userId } = await apiLink(app, {
          email: freshEmail('deleted'),
          create_user: true,
        })
        const res = await app.inject({
          method: 'DELETE',
          url: `/v1/admin/users/${userId}`,
          headers: asAdmin,
        })
        t.equal(res.statusCode, 204, 'the user is deleted')
        return link
      },
    ],
    ['token_invalid', async () => 'https://login.example.test/login/link?token=garbage'],
    ['token_invalid', async () => `https://login.example.test/login/link?token=${'A'.repeat(64)}`],
    ['token_invalid', async () => 'https://login.example.test/login/link'],
    [
      'token_invalid',
      async () => {
        // one character changed
        const { token } = await apiLink(app, { email: freshEmail('forged'), create_user: true })
        const forged = `${token.slice(0, 40)}${token[40] === 'A' ? 'B' : 'A'}${token.slice(41)}`
        return `https://login.example.test/login/link?token=${forged}`
      },
    ],
    [
      'token_invalid',
      async () => {
        // an access link (scoped, does not sign in)
        const { token } = await apiLink(app, {
          email: freshEmail('access'),
          create_user: true,
          scope: 'doc:1',
        })
        return `https://login.example.test/login/link?token=${token}`
      },
    ],
    [
      'ip_mismatch',
      async () => {
        const { link } = await apiLink(app, {
          email: freshEmail('ip'),
          create_user: true,
          bind_ip: '203.0.113.7',
        })
        return link
      },
    ],
  ]

  for (const [reason, make] of cases) {
    const link = await make()
    const token = new URL(link).searchParams.get('token') ?? ''
    const get = await app.inject({ method: 'GET', url: pathOf(link) })
    const b = new Browser(app)
    const { csrf = '' } = mustForm((await b.get('/login')).body, '/login')
    const post = await b.post('/login/link', { csrf, token })
    for (const [method, res] of [
      ['GET', get],
      ['POST', post],
    ] as const) {
      const what = `${reason} (${token.slice(0, 6) || 'none'}) on ${method}`
      t.equal(res.statusCode, 400, `${what}: 400`)
      t.match(res.headers['content-type'], /^text\/html/, `${what}: a page`)
      t.match(heading(res.body), HEADINGS[reason], `${what}: ${heading(res.body)}`)
      t.match(res.body, /<p class="lk-lead">[^<]{20,}<\/p>/, `${what}: a sentence`)
      t.ok(mustForm(res.body, '/login').csrf, `${what}: a "send me a new link" form`)
      // Expired and used login links offer one-click recovery: the token goes back in that
      // form's hidden field, and nowhere else. Every other failure has no such form.
      const recoverable = reason === 'token_expired' || reason === 'token_used'
      const resend = formFields(res.body, '/login/resend')
      if (recoverable) t.equal(resend?.token, token, `${what}: "Email me a new link" posts it`)
      else t.equal(resend, undefined, `${what}: no "Email me a new link"`)
      const shown = res.body.split(token).length - 1
      if (token.length > 0) {
        t.equal(shown, recoverable ? 1 : 0, `${what}: the token only in that hidden field`)
      }
      t.notOk(res.body.includes(reason), `${what}: not the code`)
      t.notMatch(res.body, /at .+\(.+:\d+:\d+\)|stack/i, `${what}: no stack`)
      assertSafePage(t, res, what)
    }
  }
})

t.test('a GET never signs in, whatever it carries', async (t) => {
  const email = freshEmail('only-post')
  const b = new Browser(app)
  const link = await formLink(b, email)
  const { csrf = '' } = mustForm((await b.get(link)).body, '/login/link')
  const query = new URLSearchParams({ elsewhere: 'confirmed', csrf }).toString()
  const res = await b.get(`${link}&${query}`, { 'sec-fetch-site': 'same-origin' })
  t.equal(res.statusCode, 200, 'the confirm page, extra parameters ignored')
  t.match(heading(res.body), HEADINGS.confirm)
  assertSafePage(t, res, 'a GET with the binding cookie and the form fields')
  t.ok(await stillUsable(link))
})
