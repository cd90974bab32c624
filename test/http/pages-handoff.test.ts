import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { asAdmin, asService, build, type TestApp } from '../helpers/app.js'
import { apiLink, assertProblem, postVerify } from '../helpers/http.js'
import {
  adminAction,
  assertNoSession,
  assertSessionCookie,
  Browser,
  COOKIE,
  flagsOf,
  HAS_REDIRECT,
  HEADINGS,
  heading,
  mailedLink,
  mustForm,
  nextIn,
  openAndConfirm,
  postIntrospect,
  purposeOf,
  requestLink,
  setCookie,
  tokenIn,
  userByEmail,
} from '../helpers/pages.js'

let counter = 0
const freshEmail = (name = 'handoff') => `${name}-${++counter}@example.com`

const ALLOWED = 'https://app.example.test'

/** Where a browser would go: only a path here, or an allowed origin, is acceptable. */
function onSite(location: string): boolean {
  if (!location.startsWith('/')) return new URL(location).origin === ALLOWED
  if (location.startsWith('//') || location.startsWith('/\\')) return false
  return new URL(location, 'https://login.example.test').origin === 'https://login.example.test'
}

/** The whole flow in one browser: the form (with `next`), the email, the link, the button. */
async function signIn(h: TestApp, email: string, next?: string) {
  const b = new Browser(h.app)
  const sent = await requestLink(b, email, next === undefined ? {} : { next })
  if (sent.statusCode !== 200) throw new Error(`POST /login answered ${sent.statusCode}`)
  const link = await mailedLink(h, email)
  return { b, link, res: await openAndConfirm(b, link) }
}

const postExchange = (h: TestApp, code: string, extra: Record<string, unknown> = {}) =>
  h.app.inject({
    method: 'POST',
    url: '/v1/sessions/exchange',
    headers: asService,
    payload: { code, ...extra },
  })

t.test('code handoff', async (t) => {
  const h = await build(t, { env: { HANDOFF: 'code', ALLOWED_REDIRECTS: ALLOWED } })
  const next = `${ALLOWED}/callback?x=1`

  /** Signs in through the pages; the code the target receives. */
  const codeFor = async (email: string): Promise<{ code: string; res: LightMyRequestResponse }> => {
    const { res } = await signIn(h, email, next)
    const location = String(res.headers.location ?? '')
    const code = location.startsWith(`${next}&code=`) ? location.slice(`${next}&code=`.length) : ''
    return { code, res }
  }

  t.test('the target receives a one-time code; its backend trades it once', async (t) => {
    const email = freshEmail('code')
    const { code, res } = await codeFor(email)
    t.equal(res.statusCode, 303, '303, never 301')
    t.match(res.headers.location, /^https:\/\/app\.example\.test\/callback\?x=1&code=[\w-]{64}$/)
    t.equal(res.headers['cache-control'], 'no-store')
    t.equal(purposeOf(code), 4, 'an exchange code (purpose 4)')
    t.notOk(setCookie(res, COOKIE.session), 'no session cookie: the session goes to the backend')
    assertNoSession(t, res)

    const device = { ip: '198.51.100.4', user_agent: 'Tablet/2.0' }
    const first = await postExchange(h, code, device)
    t.equal(first.statusCode, 200, 'traded for a session')
    const session = first.json()
    t.match(session, {
      jwt: String,
      expires_at: Number,
      refresh_token: String,
      refresh_expires_at: Number,
      session_id: String,
    })
    const user = await userByEmail(h.app, email)
    t.match(await postIntrospect(h.app, session.jwt), { active: true, sub: user?.id })
    const listed = await h.app.inject({
      method: 'GET',
      url: `/v1/admin/users/${user?.id}/sessions`,
      headers: asAdmin,
    })
    t.match(listed.json().sessions, [{ id: session.session_id, client: 'svc', ...device }])
    t.equal(first.headers['cache-control'], 'no-store')

    assertProblem(t, await postExchange(h, code), 401, 'token_used')
  })

  t.test(
    'without a target there is nobody to hand a code to: the link is left unused',
    async (t) => {
      const { res, link } = await signIn(h, freshEmail('nowhere'))
      const token = new URL(link).searchParams.get('token') ?? ''
      t.equal(res.statusCode, 400)
      t.match(res.body, /does not say which application to return to/)
      t.notOk(res.headers.location)
      assertNoSession(t, res)
      t.notMatch(res.body, /[\w-]{64}/, 'no code in the page')
      const check = await postVerify(h.app, { token, consume: false })
      t.equal(check.statusCode, 200, 'the link was not spent')
    },
  )

  t.test('the session belongs to the backend that traded the code', async (t) => {
    const { code } = await codeFor(freshEmail('client'))
    const traded = await h.app.inject({
      method: 'POST',
      url: '/v1/sessions/exchange',
      headers: asAdmin,
      payload: { code },
    })
    t.equal(traded.statusCode, 200)
    t.match(await postIntrospect(h.app, traded.json().jwt), { active: true, client_id: 'ops' })
  })

  t.test('a code lives 60 seconds', async (t) => {
    const { code } = await codeFor(freshEmail('slow'))
    h.clock.advance(61)
    assertProblem(t, await postExchange(h, code), 401, 'token_expired')
  })

  t.test('a code dies with a revoke', async (t) => {
    const email = freshEmail('revoked')
    const { code } = await codeFor(email)
    await adminAction(h.app, (await userByEmail(h.app, email))?.id ?? '', 'revoke')
    assertProblem(t, await postExchange(h, code), 401, 'token_revoked')
  })

  t.test('only a code is a code', async (t) => {
    const { token } = await apiLink(h.app, { email: freshEmail('link'), create_user: true })
    assertProblem(t, await postExchange(h, token), 401, 'token_invalid')
    const { refresh_token } = (
      await h.app.inject({
        method: 'POST',
        url: '/v1/links/verify',
        headers: asService,
        payload: { token },
      })
    ).json().session
    assertProblem(t, await postExchange(h, refresh_token), 401, 'token_invalid')
    assertProblem(t, await postExchange(h, 'garbage'), [400, 401])
    const anonymous = await h.app.inject({
      method: 'POST',
      url: '/v1/sessions/exchange',
      payload: { code: token },
    })
    assertProblem(t, anonymous, 401)
  })

  t.test('the code goes in the query, before any fragment', async (t) => {
    const { res } = await signIn(h, freshEmail('fragment'), `${ALLOWED}/callback#done`)
    t.equal(res.statusCode, 303)
    const location = new URL(String(res.headers.location))
    t.match(location.searchParams.get('code'), /^[\w-]{64}$/, 'the code is a query parameter')
    t.equal(location.hash, '#done', 'the fragment is kept')
  })

  t.test('a target that already carries a code gets only ours', async (t) => {
    const { res } = await signIn(h, freshEmail('planted'), `${ALLOWED}/callback?code=planted`)
    t.equal(res.statusCode, 303)
    const location = new URL(String(res.headers.location))
    t.same(location.searchParams.getAll('code').length, 1, 'one code')
    t.not(location.searchParams.get('code'), 'planted', 'ours')
  })
})

t.test('cookie handoff: redirects stay on site', async (t) => {
  const h = await build(t)
  t.equal(h.config.handoff, 'cookie', 'the default handoff')

  t.test('a relative path and an allowed origin are honoured with a 303', async (t) => {
    for (const next of ['/dashboard?tab=2', `${ALLOWED}/welcome?x=1`, '/']) {
      const { res, link } = await signIn(h, freshEmail('allowed'), next)
      t.equal(nextIn(link), next, `${next}: the link binds it`)
      t.ok(flagsOf(tokenIn(link)) & HAS_REDIRECT, `${next}: in the MAC`)
      t.equal(res.statusCode, 303, `${next}: 303`)
      t.equal(res.headers.location, next, `${next}: exactly there`)
      assertSessionCookie(t, res)
    }
  })

  const ATTACKS = [
    '//evil.example',
    '/\\evil.example',
    '/\\/evil.example',
    'https:evil.example',
    'https:/evil.example',
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'https://user@app.example.test',
    'https://user:pass@app.example.test/x',
    'https://app.example.test@evil.example',
    'https://app.example.test.evil.example',
    'https://app.example.test:8443/x',
    'http://app.example.test/x',
    'https://evil.example',
    '/\t/evil.example',
    ' //evil.example',
    '/%2F/evil.example',
  ]

  t.test('a session handed over in a cookie names the hosted client', async (t) => {
    const { res } = await signIn(h, freshEmail('hosted'))
    const jwt = assertSessionCookie(t, res)
    t.match(await postIntrospect(h.app, jwt), { active: true, client_id: 'hosted' })
  })

  t.test('GET /login drops every off-site next', async (t) => {
    const b = new Browser(h.app)
    for (const next of ATTACKS) {
      const res = await b.get(`/login?${new URLSearchParams({ next })}`)
      t.equal(res.statusCode, 200, `${JSON.stringify(next)}: the form`)
      const form = mustForm(res.body, '/login')
      t.ok(form.next === undefined || onSite(form.next), `${JSON.stringify(next)}: dropped`)
    }
  })

  t.test('POST /login with an off-site next never leads off site', async (t) => {
    for (const next of ATTACKS) {
      const what = JSON.stringify(next)
      const email = freshEmail('attack')
      const b = new Browser(h.app)
      const sent = await requestLink(b, email, { post: { next } })
      t.ok([200, 400].includes(sent.statusCode), `${what}: ${sent.statusCode}`)
      t.notOk(sent.headers.location, `${what}: no redirect from the form`)
      if (sent.statusCode !== 200) continue
      const link = await mailedLink(h, email)
      const bound = nextIn(link)
      t.ok(bound === undefined || onSite(bound), `${what}: the link binds no off-site target`)
      const res = await openAndConfirm(b, link)
      const location = res.headers.location
      t.ok(location === undefined || onSite(String(location)), `${what}: ${location ?? 'no'} hop`)
      if (location === undefined) t.match(heading(res.body), HEADINGS.signedIn, `${what}: in`)
    }
  })

  t.test('a next added to a link, or changed on the form, is a link error', async (t) => {
    const email = freshEmail('swap')
    const b = new Browser(h.app)
    const link = await (async () => {
      await requestLink(b, email, { next: '/inbox' })
      return mailedLink(h, email)
    })()
    const token = tokenIn(link)
    const { csrf = '' } = mustForm((await b.get('/login')).body, '/login')
    for (const next of ['//evil.example', 'https://evil.example', '/elsewhere', `${ALLOWED}/`]) {
      const what = JSON.stringify(next)
      const get = await b.get(`/login/link?${new URLSearchParams({ token, next })}`)
      t.equal(get.statusCode, 400, `GET ${what}: 400`)
      t.match(heading(get.body), HEADINGS.token_invalid, `GET ${what}: the link error page`)
      const post = await b.post('/login/link', { csrf, token, next })
      t.equal(post.statusCode, 400, `POST ${what}: 400`)
      t.notOk(post.headers.location, `POST ${what}: no redirect`)
      t.match(heading(post.body), HEADINGS.token_invalid, `POST ${what}: the link error page`)
      assertNoSession(t, post, `POST ${what}`)
    }
    const without = await b.post('/login/link', { csrf, token })
    t.equal(without.statusCode, 400, 'a bound next left out: 400 too')

    // a link without a target given one on the way
    const plain = freshEmail('plain')
    const b2 = new Browser(h.app)
    await requestLink(b2, plain)
    const plainToken = tokenIn(await mailedLink(h, plain))
    const added = await b2.post('/login/link', {
      csrf: mustForm((await b2.get('/login')).body, '/login').csrf ?? '',
      token: plainToken,
      next: '//evil.example',
    })
    t.equal(added.statusCode, 400, 'a target the link does not bind: 400')
    t.notOk(added.headers.location)

    const res = await openAndConfirm(b, link)
    t.equal(res.statusCode, 303, 'the link still works with its own target')
    t.equal(res.headers.location, '/inbox')
  })

  t.test('an empty next on the link is no next', async (t) => {
    "target, so a link that binds none fails as token_invalid; POST /login/link treats '' as " +
      'absent. Treat an empty next alike on both'
    const email = freshEmail('empty')
    const b = new Browser(h.app)
    await requestLink(b, email)
    const link = await mailedLink(h, email)
    const res = await b.get(`${link}&next=`)
    t.equal(res.statusCode, 200, 'the confirm page')
  })
})
