import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import t from 'tap'
import { asAdmin, asService, build, PUBLIC_URL } from '../helpers/app.js'
import { apiLink, assertProblem } from '../helpers/http.js'
import {
  adminAction,
  answerShape,
  assertSessionCookie,
  BROWSER_BOUND,
  Browser,
  COOKIE,
  flagsOf,
  HEADINGS,
  heading,
  mailedLink,
  mustForm,
  openAndConfirm,
  postIntrospect,
  removes,
  requestLink,
  SAME_ORIGIN,
  setCookie,
  tokenIn,
  userByEmail,
} from '../helpers/pages.js'

const h = await build(t)
const { app } = h

let counter = 0
const freshEmail = (name = 'page') => `${name}-${++counter}@example.com`

/** The headers every hosted page carries (DESIGN security 10; issue: confirm page headers). */
function assertPageHeaders(t: Test, res: LightMyRequestResponse): void {
  t.match(res.headers['content-type'], /^text\/html/, 'text/html')
  t.equal(res.headers['cache-control'], 'no-store', 'Cache-Control: no-store')
  t.equal(res.headers['referrer-policy'], 'no-referrer', 'Referrer-Policy: no-referrer')
  t.equal(res.headers['x-frame-options'], 'DENY', 'X-Frame-Options: DENY')
  const csp = String(res.headers['content-security-policy'] ?? '')
  const directives = csp.split(';').map((d) => d.trim())
  t.ok(directives.includes("default-src 'none'"), `CSP default-src 'none': ${csp}`)
  t.ok(directives.includes("frame-ancestors 'none'"), "CSP frame-ancestors 'none'")
  t.notMatch(csp, /unsafe-inline|unsafe-eval|\*/, 'nothing unsafe, no wildcard')
}

/** The outbox counts (admin API): what was queued, whatever became of it. */
async function outboxCounts(): Promise<Record<string, number>> {
  const res = await app.inject({ method: 'GET', url: '/v1/admin/outbox', headers: asAdmin })
  return res.json().counts
}

t.test('GET /login renders the email form with the page headers', async (t) => {
  const b = new Browser(app)
  const res = await b.get('/login')
  t.equal(res.statusCode, 200)
  assertPageHeaders(t, res)
  t.match(heading(res.body), HEADINGS.login)
  const form = mustForm(res.body, '/login')
  t.match(form.csrf, /^[\w-]{43}$/, 'a CSRF form token')
  t.notOk('next' in form, 'no next without one')
  t.match(res.body, /<label for="email">/, 'the field is labelled')
  t.match(res.body, /<input id="email" name="email" type="email"[^>]*required/)
  t.notMatch(res.body, /<script/i, 'no script')

  const csrf = setCookie(res, COOKIE.csrf)
  t.ok(csrf, 'the CSRF cookie is set')
  t.equal(csrf?.secure, true, 'Secure')
  t.equal(csrf?.httpOnly, true, 'HttpOnly')
  t.equal(csrf?.path, '/')
  t.notOk(csrf && 'domain' in csrf, 'no Domain')
  t.not(form.csrf, csrf?.value, 'the form carries a MAC of the cookie, not the cookie')

  const again = await b.get('/login')
  t.notOk(setCookie(again, COOKIE.csrf), 'a browser with a CSRF cookie keeps it')
  t.equal(mustForm(again.body, '/login').csrf, form.csrf, 'and the same form token')
  t.not(mustForm((await new Browser(app).get('/login')).body, '/login').csrf, form.csrf)
})

t.test('GET /login keeps a valid next and drops an invalid one', async (t) => {
  const b = new Browser(app)
  const kept = await b.get(`/login?next=${encodeURIComponent('/dashboard?tab=2')}`)
  t.equal(mustForm(kept.body, '/login').next, '/dashboard?tab=2', 'a relative path is kept')
  const allowed = await b.get(`/login?next=${encodeURIComponent('https://app.example.test/x')}`)
  t.equal(mustForm(allowed.body, '/login').next, 'https://app.example.test/x', 'an allowed origin')
  for (const next of ['//evil.example', 'https://evil.example/', 'javascript:alert(1)']) {
    const res = await b.get(`/login?next=${encodeURIComponent(next)}`)
    t.equal(res.statusCode, 200, `${next}: the form still renders`)
    t.notOk('next' in mustForm(res.body, '/login'), `${next}: dropped from the form`)
    t.notOk(res.body.includes('evil.example'), `${next}: not in the page at all`)
  }
})

t.test(
  'POST /login: the same "sent" page for a new, an existing and a disabled user',
  async (t) => {
    const existing = freshEmail('existing')
    await apiLink(app, { email: existing, create_user: true })
    const disabled = freshEmail('disabled')
    const { userId: disabledId } = await apiLink(app, { email: disabled, create_user: true })
    await adminAction(app, disabledId, 'disable')
    const fresh = freshEmail('new')
    t.notOk(await userByEmail(app, fresh), 'the new address has no user yet')

    const answers: { email: string; res: LightMyRequestResponse }[] = []
    for (const email of [fresh, existing, disabled]) {
      answers.push({ email, res: await requestLink(new Browser(app), email) })
    }
    const shape = ({ email, res }: (typeof answers)[number]) => answerShape(email, res)
    const [first, ...rest] = answers.map(shape)
    t.equal(first?.status, 200)
    t.match(heading(answers[0]?.res.body ?? ''), HEADINGS.sent)
    for (const [i, other] of rest.entries()) {
      t.same(other, first, `${['existing', 'disabled'][i]} user: the same answer as a new address`)
    }
    for (const { email, res } of answers) {
      assertPageHeaders(t, res)
      t.ok(res.body.includes(email), 'the page repeats the typed address')
      const binding = setCookie(res, COOKIE.binding)
      t.ok(binding, 'the binding cookie is set')
      if (!binding) continue
      t.equal(binding.httpOnly, true, 'HttpOnly')
      t.equal(binding.secure, true, 'Secure')
      t.equal(binding.sameSite, 'Lax', 'SameSite=Lax')
      t.equal(binding.path, '/', 'Path=/')
      t.notOk('domain' in binding, 'no Domain')
      t.ok(Number(binding.maxAge) > 0, 'it lasts as long as a link may')
    }

    await app.outbox.runOnce()
    for (const email of [fresh, existing]) {
      const link = await mailedLink(h, email)
      t.ok(flagsOf(tokenIn(link)) & BROWSER_BOUND, `${email}: the emailed link is browser-bound`)
    }
    t.notOk(
      h.mail.some((m) => m.to === disabled),
      'a disabled user gets no mail',
    )
    t.equal((await userByEmail(app, fresh))?.status, 'active', 'the new address is now a user')
  },
)

t.test('the binding cookie does not name the user in clear', async (t) => {
  const email = freshEmail('clear')
  const { userId } = await apiLink(app, { email, create_user: true })
  const res = await requestLink(new Browser(app), email)
  const binding = setCookie(res, COOKIE.binding)
  t.ok(binding, 'a binding cookie')
  const value = binding?.value ?? ''
  t.notOk(value.includes(userId), 'the user id is not in the cookie')
  t.notOk(value.includes(userId.replaceAll('-', '')), 'not even without dashes')
})

t.test('POST /login with an invalid address: 400, the form again, with the error', async (t) => {
  const b = new Browser(app)
  const before = await outboxCounts()
  for (const email of [
    'not-an-email',
    '',
    'a@b\r\nBcc: x@evil.example',
    `${'a'.repeat(300)}@x.io`,
  ]) {
    const res = await requestLink(b, email, { next: '/dashboard' })
    t.equal(res.statusCode, 400, JSON.stringify(email))
    assertPageHeaders(t, res)
    t.match(heading(res.body), HEADINGS.login, 'the form again')
    const form = mustForm(res.body, '/login')
    t.equal(form.next, '/dashboard', 'the target is kept')
    t.match(res.body, /aria-invalid="true" aria-describedby="email-error"/, 'the field is marked')
    t.match(res.body, /<p id="email-error" class="lk-field-error" role="alert">/, 'announced')
    t.match(res.body, /Enter a valid email address\./)
    t.notOk(setCookie(res, COOKIE.binding), 'no binding cookie')
    t.notMatch(res.body, /<script/i)
  }
  t.same(await outboxCounts(), before, 'nothing queued')
})

t.test('POST /login refused: no CSRF token, a wrong one, cross-site, another Origin', async (t) => {
  const before = await outboxCounts()
  const cases: [string, (email: string) => Promise<LightMyRequestResponse>][] = [
    ['no csrf field', (email) => requestLink(new Browser(app), email, { post: { csrf: '' } })],
    [
      'a wrong csrf field',
      (email) => requestLink(new Browser(app), email, { post: { csrf: 'x'.repeat(43) } }),
    ],
    [
      "another browser's csrf field",
      async (email) => {
        const other = mustForm((await new Browser(app).get('/login')).body, '/login').csrf ?? ''
        return requestLink(new Browser(app), email, { post: { csrf: other } })
      },
    ],
    [
      'no csrf cookie',
      async (email) => {
        const b = new Browser(app)
        const form = mustForm((await b.get('/login')).body, '/login')
        b.cookies.clear()
        return b.post('/login', { ...form, email })
      },
    ],
    [
      'Sec-Fetch-Site: cross-site',
      async (email) => {
        const b = new Browser(app)
        const form = mustForm((await b.get('/login')).body, '/login')
        return b.post('/login', { ...form, email }, { 'sec-fetch-site': 'cross-site' })
      },
    ],
    [
      'Sec-Fetch-Site: same-site',
      async (email) => {
        const b = new Browser(app)
        const form = mustForm((await b.get('/login')).body, '/login')
        return b.post('/login', { ...form, email }, { 'sec-fetch-site': 'same-site' })
      },
    ],
    [
      'Origin: https://evil.example',
      async (email) => {
        const b = new Browser(app)
        const form = mustForm((await b.get('/login')).body, '/login')
        return b.post('/login', { ...form, email }, { origin: 'https://evil.example' })
      },
    ],
  ]
  const emails: string[] = []
  for (const [name, send] of cases) {
    const email = freshEmail('refused')
    emails.push(email)
    const res = await send(email)
    t.equal(res.statusCode, 403, `${name}: 403`)
    assertPageHeaders(t, res)
    t.match(heading(res.body), HEADINGS.forbidden, `${name}: the forbidden page`)
    t.notOk(setCookie(res, COOKIE.binding), `${name}: no binding cookie`)
    t.notOk(res.body.includes(email), `${name}: the address is not echoed`)
  }
  t.same(await outboxCounts(), before, 'nothing queued')
  await app.outbox.runOnce()
  for (const email of emails) {
    t.notOk(await userByEmail(app, email), `${email}: no user created`)
    t.notOk(
      h.mail.some((m) => m.to === email),
      `${email}: nothing mailed`,
    )
  }
})

t.test('a form post from an old browser (no fetch metadata, no Origin) is accepted', async (t) => {
  const email = freshEmail('legacy')
  const b = new Browser(app)
  const form = mustForm((await b.get('/login')).body, '/login')
  const res = await b.post('/login', { ...form, email }, {})
  t.equal(res.statusCode, 200, 'the CSRF token alone is enough')
  t.match(heading(res.body), HEADINGS.sent)
})

t.test('POST /logout clears the session cookie and goes back to /login', async (t) => {
  const email = freshEmail('logout')
  const b = new Browser(app)
  await requestLink(b, email)
  const signedIn = await openAndConfirm(b, await mailedLink(h, email))
  t.equal(signedIn.statusCode, 200)
  const jwt = assertSessionCookie(t, signedIn)
  t.equal(b.cookies.get(COOKIE.session), jwt, 'the browser holds the session')
  const form = mustForm(signedIn.body, '/logout')
  t.same(Object.keys(form), ['csrf'], 'the signed-in page signs out with its CSRF token')

  const res = await b.post('/logout', { ...form, next: '//evil.example' })
  t.equal(res.statusCode, 303, '303')
  t.equal(res.headers.location, '/login', 'to /login (an off-site next is ignored)')
  t.equal(res.headers['cache-control'], 'no-store')
  const cleared = setCookie(res, COOKIE.session)
  t.ok(cleared, 'the session cookie is set again')
  if (cleared) {
    t.ok(removes(cleared), `to expire now: Max-Age=${cleared.maxAge}`)
    t.equal(cleared.value, '', 'empty')
    t.equal(cleared.path, '/', 'Path=/ (the same cookie)')
    t.equal(cleared.secure, true, 'Secure (a __Host- cookie needs it to be replaced)')
  }
  t.notOk(b.cookies.has(COOKIE.session), 'the browser dropped it')
})

t.test('POST /logout needs the CSRF token and our own page (DESIGN 9)', async (t) => {
  const email = freshEmail('logout-csrf')
  const b = new Browser(app)
  await requestLink(b, email)
  const jwt = assertSessionCookie(t, await openAndConfirm(b, await mailedLink(h, email)))
  const { csrf = '' } = mustForm((await b.get('/logout')).body, '/logout')

  // A sibling subdomain's page is same-site, not same-origin: it may not sign people out.
  const sibling = { 'sec-fetch-site': 'same-site', origin: 'https://app.login.example.test' }
  const other = new Browser(app)
  const otherCsrf = mustForm((await other.get('/login')).body, '/login').csrf ?? ''
  for (const [what, form, headers] of [
    ['no token', {}, SAME_ORIGIN],
    ['an empty token', { csrf: '' }, SAME_ORIGIN],
    ['a wrong token', { csrf: `${csrf.slice(0, -1)}x` }, SAME_ORIGIN],
    ["another browser's token", { csrf: otherCsrf }, SAME_ORIGIN],
    ['no token, from a sibling subdomain', {}, sibling],
    ['the token, from a sibling subdomain', { csrf }, sibling],
    ['the token, cross-site', { csrf }, { 'sec-fetch-site': 'cross-site' }],
    ['the token, another Origin', { csrf }, { origin: 'https://evil.example' }],
    ['no token, an old browser', { next: '/x' }, {}],
  ] as [string, Record<string, string>, Record<string, string>][]) {
    const res = await b.post('/logout', form, headers)
    t.equal(res.statusCode, 403, `${what}: 403`)
    t.match(heading(res.body), HEADINGS.forbidden, `${what}: the forbidden page`)
    t.notOk(res.headers.location, `${what}: no redirect`)
    t.notOk(setCookie(res, COOKIE.session), `${what}: the session cookie is left alone`)
    t.equal(b.cookies.get(COOKIE.session), jwt, `${what}: still signed in`)
  }
  const res = await b.post('/logout', { csrf })
  t.equal(res.statusCode, 303, 'with the token from our own page: signed out')
  t.notOk(b.cookies.has(COOKIE.session))
})

t.test('GET /logout shows a sign-out button and changes nothing', async (t) => {
  const email = freshEmail('logout-page')
  const b = new Browser(app)
  await requestLink(b, email)
  const jwt = assertSessionCookie(t, await openAndConfirm(b, await mailedLink(h, email)))

  // An application sends people here, as a link or a redirect: a cross-site navigation.
  const target = 'https://app.example.test/bye?see=you'
  for (const method of ['get', 'head'] as const) {
    const page = await b[method](`/logout?${new URLSearchParams({ next: target })}`, {
      'sec-fetch-site': 'cross-site',
    })
    t.equal(page.statusCode, 200, `${method}: 200`)
    assertPageHeaders(t, page)
    t.notOk(page.headers.location, `${method}: no redirect`)
    t.notOk(setCookie(page, COOKIE.session), `${method}: the session cookie is left alone`)
    t.equal(b.cookies.get(COOKIE.session), jwt, `${method}: still signed in`)
  }
  const page = await b.get(`/logout?${new URLSearchParams({ next: target })}`)
  t.match(heading(page.body), /^Sign out of /)
  const form = mustForm(page.body, '/logout')
  t.same(Object.keys(form).sort(), ['csrf', 'next'])
  t.equal(form.next, target, 'the target is kept for after')
  const session = await postIntrospect(app, jwt)
  t.equal(session.active, true, 'the session is still active')

  const res = await b.post('/logout', form)
  t.equal(res.statusCode, 303, 'the button signs out')
  t.equal(res.headers.location, target, 'and goes on to the target')
  t.notOk(b.cookies.has(COOKIE.session), 'the browser dropped the session cookie')

  for (const next of ['//evil.example', 'https://evil.example/', '/..//evil.example']) {
    const odd = await b.get(`/logout?${new URLSearchParams({ next })}`)
    t.equal(odd.statusCode, 200, `${next}: the page`)
    t.notOk('next' in mustForm(odd.body, '/logout'), `${next}: dropped`)
  }
})

t.test('POST /logout sends a non-ASCII target as ASCII', async (t) => {
  const b = new Browser(app)
  for (const [next, location] of [
    ['/日本', '/%E6%97%A5%E6%9C%AC'],
    ['/über', '/%C3%BCber'],
    ['/%e6%97%a5%E6%9C%AC', '/%E6%97%A5%E6%9C%AC'],
  ] as const) {
    const form = mustForm((await b.get(`/logout?${new URLSearchParams({ next })}`)).body, '/logout')
    t.equal(form.next, location, `${next}: the page carries its ASCII spelling`)
    // Posted as typed, too: an application's own form would.
    for (const sent of [form.next ?? '', next]) {
      const res = await b.post('/logout', { csrf: form.csrf ?? '', next: sent })
      t.equal(res.statusCode, 303, `${sent}: 303, not a 500`)
      t.equal(res.headers.location, location, `${sent}: Location ${location}`)
      t.match(String(res.headers.location), /^[\x21-\x7e]+$/, `${sent}: ASCII only`)
    }
  }
})

t.test('GET /assets/latchkey.css: text/css with an ETag, 304 when unchanged', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/assets/latchkey.css' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/css/)
  const etag = res.headers.etag
  t.match(etag, /^"[^"]+"$/, 'a strong ETag')
  t.ok(res.body.length > 0, 'a stylesheet')
  const cached = await app.inject({
    method: 'GET',
    url: '/assets/latchkey.css',
    headers: { 'if-none-match': String(etag) },
  })
  t.equal(cached.statusCode, 304)
  t.equal(cached.body, '', 'no body')
  const stale = await app.inject({
    method: 'GET',
    url: '/assets/latchkey.css',
    headers: { 'if-none-match': '"stale"' },
  })
  t.equal(stale.statusCode, 200, 'another ETag gets the stylesheet')
  const page = await app.inject({ method: 'GET', url: '/login' })
  t.match(page.body, /<link rel="stylesheet" href="\/assets\/latchkey\.css">/, 'pages link to it')
})

t.test('the API still takes JSON only: a form body is 415', async (t) => {
  const form = new URLSearchParams({ email: freshEmail('api') }).toString()
  for (const url of ['/v1/links', '/v1/links/verify', '/v1/sessions/exchange']) {
    const res = await app.inject({
      method: 'POST',
      url,
      headers: { ...asService, 'content-type': 'application/x-www-form-urlencoded' },
      payload: form,
    })
    assertProblem(t, res, 415)
  }
})

t.test('a form the pages cannot read gets a page, not a problem', async (t) => {
  const b = new Browser(app)
  const form = mustForm((await b.get('/login')).body, '/login')
  const cases: [string, Record<string, string>, string][] = [
    [
      'a body over 16 KiB',
      { 'content-type': 'application/x-www-form-urlencoded' },
      `${new URLSearchParams(form)}&next=${'a'.repeat(17 * 1024)}`,
    ],
    ['another content type', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
    ['malformed JSON', { 'content-type': 'application/json' }, '{'],
  ]
  for (const [what, headers, payload] of cases) {
    const res = await app.inject({ method: 'POST', url: '/login', headers, payload })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${what}: ${res.statusCode}`)
    t.match(res.headers['content-type'], /^text\/html/, `${what}: a page`)
    t.match(res.body, /could not be read/, what)
  }
})

t.test('an odd form (a field twice, an unknown field) gets a page, not a problem', async (t) => {
  const b = new Browser(app)
  const form = mustForm((await b.get('/login')).body, '/login')
  const body = `${new URLSearchParams(form)}&email=a%40example.com&email=b%40example.com&x=1`
  const res = await b.post('/login', body)
  t.equal(res.statusCode, 400)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(heading(res.body), HEADINGS.login, 'the form again')
  t.match(res.body, /Enter a valid email address\./)
})

t.test('the form POST cannot be replayed as GET', async (t) => {
  const res = await app.inject({ method: 'GET', url: `/login?email=x%40example.com&csrf=x` })
  t.equal(res.statusCode, 200, 'GET /login only renders the form')
  t.match(heading(res.body), HEADINGS.login)
  await app.outbox.runOnce()
  t.notOk(await userByEmail(app, 'x@example.com'), 'nothing happened')
})

t.test('a link issued through the API is not browser-bound', async (t) => {
  const { token } = await apiLink(app, { email: freshEmail('api'), create_user: true })
  t.equal(flagsOf(token) & BROWSER_BOUND, 0)
})

t.test('no token, JWT or cookie value in the logs', async (t) => {
  const email = freshEmail('logs')
  const b = new Browser(app)
  await requestLink(b, email)
  const link = await mailedLink(h, email)
  const res = await openAndConfirm(b, link)
  const secrets = [tokenIn(link), assertSessionCookie(t, res), ...b.cookies.values()]
  const logs = h.logs.join('')
  for (const secret of secrets.filter((s) => s.length > 0)) {
    t.notOk(logs.includes(secret), `not logged: ${secret.slice(0, 8)}…`)
  }
  t.ok(logs.includes('/login/link'), 'the path is logged')
  t.notOk(logs.includes(`${PUBLIC_URL}/login/link?token=`), 'never a link')
})

t.test('a form from our own page is accepted with Origin: null (no-referrer pages)', async (t) => {
  // Under Referrer-Policy: no-referrer browsers send `Origin: null` on same-origin form posts.
  const h = await build(t)
  const b = new Browser(h.app)
  const { csrf = '' } = mustForm((await b.get('/login', {})).body, '/login')
  const cookie = `${COOKIE.csrf}=${b.cookies.get(COOKIE.csrf)}`
  const post = (headers: Record<string, string>) =>
    h.app.inject({
      method: 'POST',
      url: '/login',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: `email=null-origin%40example.com&csrf=${encodeURIComponent(csrf)}`,
    })
  t.equal((await post({ origin: 'null', 'sec-fetch-site': 'same-origin' })).statusCode, 200)
  t.equal((await post({ origin: 'null', 'sec-fetch-site': 'cross-site' })).statusCode, 403)
  const logout = await h.app.inject({
    method: 'POST',
    url: '/logout',
    headers: {
      cookie,
      'content-type': 'application/x-www-form-urlencoded',
      origin: 'null',
      'sec-fetch-site': 'same-origin',
    },
    payload: `csrf=${encodeURIComponent(csrf)}`,
  })
  t.equal(logout.statusCode, 303, 'logout from our own page too')
})
