import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { asService } from '../helpers/app.js'
import { mailedCode, onStore, otherCode } from '../helpers/codes.js'
import { apiLink } from '../helpers/http.js'
import {
  adminAction,
  answerShape,
  assertNoSession,
  assertSessionCookie,
  Browser,
  COOKIE,
  HEADINGS,
  heading,
  mailedLink,
  mustForm,
  postIntrospect,
  requestLink,
  setCookie,
  userByEmail,
} from '../helpers/pages.js'

// The code form of the hosted "check your email" page (POST /login/code; DESIGN "HTTP API",
// requirements 9 and 18), on both stores: a right code signs in the browser that typed it,
// whichever device read the email, handed over as HANDOFF says.

const WRONG = 'That code didn’t work. Check it and try again, or use the link in the email.'
const ALLOWED = 'https://app.example.test'

/** The "check your email" page's code form, filled in with `code`, posted. */
async function postCode(b: Browser, sent: LightMyRequestResponse, code: string) {
  return b.post('/login/code', { ...mustForm(sent.body, '/login/code'), code })
}

for (const store of ['sqlite', 'postgres'] as const) {
  t.test(store, async (t) => {
    const h = await onStore(t, store, { RATE_LIMIT_CODE: '5/15m' })
    const { app } = h
    let counter = 0
    const fresh = (name = 'pcode') => `${name}-${++counter}@example.com`

    t.test('the sent page has the code form', async (t) => {
      const b = new Browser(app)
      const email = fresh()
      const sent = await requestLink(b, email, { next: '/after' })
      t.match(heading(sent.body), HEADINGS.sent)
      const form = mustForm(sent.body, '/login/code')
      t.same(Object.keys(form).sort(), ['csrf', 'email', 'next'])
      t.equal(form.email, email)
      t.equal(form.next, '/after')
      t.match(sent.body, /<label for="code">Sign-in code<\/label>/)
      t.match(
        sent.body,
        /<input id="code" name="code" type="text" inputmode="text" autocomplete="one-time-code"[^>]* maxlength="12"/,
      )
      t.match(sent.body, /a sign-in link and a code/)
      t.notMatch(sent.body, /<script/i, 'no JavaScript')
    })

    t.test('a right code signs in this browser (cookie), on to next', async (t) => {
      const b = new Browser(app)
      const email = fresh()
      const sent = await requestLink(b, email, { next: '/after' })
      const code = await mailedCode(h, email)
      const res = await postCode(b, sent, code.toLowerCase())
      t.equal(res.statusCode, 303)
      t.equal(res.headers.location, '/after')
      const jwt = assertSessionCookie(t, res)
      t.match(await postIntrospect(app, jwt), { active: true, client_id: 'hosted' })
      t.ok(b.cookies.has(COOKIE.session))
      t.notOk(b.cookies.has(COOKIE.binding), 'the binding is spent with the link')
      const user = await userByEmail(app, email)
      t.ok(user?.last_login_at, 'recorded as a sign-in')
    })

    t.test('without next: the signed-in page', async (t) => {
      const b = new Browser(app)
      const email = fresh()
      const sent = await requestLink(b, email)
      const res = await postCode(b, sent, await mailedCode(h, email))
      t.equal(res.statusCode, 200)
      t.match(heading(res.body), HEADINGS.signedIn)
      assertSessionCookie(t, res)
    })

    t.test('another browser than the one that asked: the code signs that one in', async (t) => {
      const asker = new Browser(app)
      const email = fresh()
      const sent = await requestLink(asker, email)
      const code = await mailedCode(h, email)
      // The sent page's form, posted from a browser that never asked (its own CSRF token).
      const other = new Browser(app)
      const page = await other.get('/login')
      const form = mustForm(page.body, '/login')
      const res = await other.post('/login/code', { csrf: form.csrf as string, email, code })
      t.equal(res.statusCode, 200)
      assertSessionCookie(t, res)
      t.ok(sent, 'the asker saw the sent page')
    })

    t.test('a wrong code: the sent page again, 401, the message by the field', async (t) => {
      const b = new Browser(app)
      const email = fresh()
      const sent = await requestLink(b, email, { next: '/after' })
      const code = await mailedCode(h, email)
      const res = await postCode(b, sent, otherCode(code))
      t.equal(res.statusCode, 401)
      t.match(heading(res.body), HEADINGS.sent)
      t.ok(res.body.includes(WRONG), 'the message')
      t.match(res.body, /aria-invalid="true" aria-describedby="code-error"/)
      assertNoSession(t, res)
      const again = mustForm(res.body, '/login/code')
      t.equal(again.email, email, 'the form keeps the address')
      t.equal(again.next, '/after', 'and the target')
      // The right code still works afterwards.
      t.equal((await postCode(b, res, code)).statusCode, 303)
    })

    t.test('no CSRF token, or a cross-site post: 403, nothing counted or spent', async (t) => {
      const b = new Browser(app)
      const email = fresh()
      const sent = await requestLink(b, email)
      const code = await mailedCode(h, email)
      const { csrf: _csrf, ...withoutCsrf } = mustForm(sent.body, '/login/code')
      const noToken = await b.post('/login/code', { ...withoutCsrf, code })
      t.equal(noToken.statusCode, 403)
      t.match(heading(noToken.body), HEADINGS.forbidden)
      assertNoSession(t, noToken)
      const crossSite = await b.post(
        '/login/code',
        { ...mustForm(sent.body, '/login/code'), code },
        { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      )
      t.equal(crossSite.statusCode, 403)
      assertNoSession(t, crossSite)
      for (let i = 0; i < 4; i++) await postCode(b, sent, otherCode(code))
      t.equal((await postCode(b, sent, code)).statusCode, 200, 'the refused posts spent nothing')
    })

    t.test('past the guess budget: the rate-limited page, even for the right code', async (t) => {
      const b = new Browser(app)
      const email = fresh()
      const sent = await requestLink(b, email)
      const code = await mailedCode(h, email)
      for (let i = 0; i < 5; i++) {
        t.equal((await postCode(b, sent, otherCode(code))).statusCode, 401)
      }
      const over = await postCode(b, sent, code)
      t.equal(over.statusCode, 429)
      t.match(heading(over.body), /^Too many codes tried$/)
      t.ok(Number(over.headers['retry-after']) > 0, 'Retry-After')
      assertNoSession(t, over)
      // The link still works.
      const link = await mailedLink(h, email)
      const page = await b.get(link)
      const res = await b.post('/login/link', mustForm(page.body, '/login/link'))
      t.equal(res.statusCode, 200)
      assertSessionCookie(t, res)
    })

    t.test('known, unknown and disabled addresses: the same wrong-code page', async (t) => {
      const known = fresh('known')
      await apiLink(app, { email: known })
      const disabled = fresh('disabled')
      await adminAction(app, (await apiLink(app, { email: disabled })).userId, 'disable')
      const unknown = fresh('unknown')
      const neverAsked = fresh('never-asked')
      const shapes: Record<string, unknown> = {}
      for (const email of [known, disabled, unknown]) {
        const b = new Browser(app)
        const sent = await requestLink(b, email)
        shapes[email] = answerShape(email, await postCode(b, sent, 'ABCD-EFGH'))
      }
      // An address no user has and nobody asked a link for (the form creates users, so the one
      // above has an account by now): its code form posted as a script would.
      const b = new Browser(app)
      const sent = await requestLink(b, known)
      const form = { ...mustForm(sent.body, '/login/code'), email: neverAsked, code: 'ABCD-EFGH' }
      shapes[neverAsked] = answerShape(neverAsked, await b.post('/login/code', form))
      t.notOk(await userByEmail(app, neverAsked), 'no user has it')
      t.same(shapes[disabled], shapes[known], 'a disabled user')
      t.same(shapes[unknown], shapes[known], 'a new address')
      t.same(shapes[neverAsked], shapes[known], 'an address without an account')
    })
  })
}

t.test('HANDOFF=code: the code redirects to the target with an exchange code', async (t) => {
  const h = await onStore(t, 'sqlite', { HANDOFF: 'code', ALLOWED_REDIRECTS: ALLOWED })
  const next = `${ALLOWED}/callback`
  const b = new Browser(h.app)
  const sent = await requestLink(b, 'handoff@example.com', { next })
  const code = await mailedCode(h, 'handoff@example.com')
  const res = await postCode(b, sent, code)
  t.equal(res.statusCode, 303)
  const location = new URL(String(res.headers.location))
  t.equal(`${location.origin}${location.pathname}`, next)
  const exchange = location.searchParams.get('code') ?? ''
  assertNoSession(t, res)
  const traded = await h.app.inject({
    method: 'POST',
    url: '/v1/sessions/exchange',
    headers: asService,
    payload: { code: exchange },
  })
  t.equal(traded.statusCode, 200, traded.body)
  t.notOk(setCookie(res, COOKIE.session), 'no session cookie with the code handoff')
})
