import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import t from 'tap'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { asAdmin, asService, build, type TestApp } from '../helpers/app.js'
import { apiLink, assertProblem, postLink } from '../helpers/http.js'
import {
  adminAction,
  Browser,
  COOKIE,
  HEADINGS,
  heading,
  mustForm,
  requestLink,
  SAME_ORIGIN,
  setCookie,
} from '../helpers/pages.js'

// The limits of DESIGN requirement 15, in memory (test/integration/rate-limits-redis.test.ts
// runs them in Redis). Time is the app's ManualClock: windows end when a test says so.

const started = async (t: Test, env: Record<string, string>): Promise<TestApp> => {
  const h = await build(t, { env })
  return h
}

const get = (h: TestApp, url: string, remoteAddress = '198.51.100.1', headers = {}) =>
  h.app.inject({ method: 'GET', url, remoteAddress, headers })

/** A 429 for a person: our page, its headers, Retry-After, and the wait in words. */
function assertTooManyPage(
  t: Test,
  res: LightMyRequestResponse,
  headingText: RegExp,
  wait: string,
) {
  t.equal(res.statusCode, 429, '429')
  t.match(res.headers['content-type'], /^text\/html/, 'a page')
  t.match(heading(res.body), headingText, 'its heading')
  t.ok(res.body.includes(`Try again in ${wait}.`), `says to wait ${wait}`)
  t.match(res.headers['retry-after'], /^\d+$/, 'Retry-After in seconds')
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(String(res.headers['content-security-policy']), /default-src 'none'/, 'the pages’ CSP')
  t.equal(res.headers['x-frame-options'], 'DENY')
  t.match(res.body, /<link rel="stylesheet" href="\/assets\/latchkey.css">/, 'our stylesheet')
}

/** An answer as a client sees it, but for the Date header and the request's own id. */
const comparable = (res: LightMyRequestResponse) => {
  const { date: _date, 'x-request-id': _id, ...headers } = res.headers
  return { status: res.statusCode, headers, body: res.body }
}

t.test('per client IP: every public page, the stylesheet, the JWKS and the docs', async (t) => {
  const h = await started(t, { RATE_LIMIT_IP: '4/1m' })
  const ip = '198.51.100.1'
  t.equal((await get(h, '/login', ip)).statusCode, 200)
  t.equal((await get(h, '/login/link?token=x', ip)).statusCode, 400)
  t.equal((await get(h, '/.well-known/jwks.json', ip)).statusCode, 200)
  t.equal((await get(h, '/docs/json', ip)).statusCode, 200)

  const page = await get(h, '/login', ip)
  assertTooManyPage(t, page, /^Too many requests$/, '1 minute')
  t.equal(page.headers['retry-after'], '60', 'the whole window: the clock has not moved')
  t.ok(page.body.includes('Too many requests came from your network'), 'per-IP wording')
  t.equal((await get(h, '/login/link?token=x', ip)).statusCode, 429, 'the confirm page too')
  const logout = await h.app.inject({ method: 'POST', url: '/logout', remoteAddress: ip })
  t.equal(logout.statusCode, 429, 'and logout')

  const jwks = await get(h, '/.well-known/jwks.json', ip)
  assertProblem(t, jwks, 429, 'rate_limited')
  t.equal(jwks.headers['retry-after'], '60', 'machines get problem+json and Retry-After')
  t.equal((await get(h, '/docs', ip)).statusCode, 429, 'the docs are limited')

  for (let i = 0; i < 4; i++) {
    const css = await get(h, '/assets/latchkey.css', ip)
    t.equal(css.statusCode, 200, 'the stylesheet: an allowance of its own, for the 429 page')
  }
  const css = await get(h, '/assets/latchkey.css', ip)
  t.equal(css.statusCode, 429, 'limited all the same')
  t.equal(css.headers['retry-after'], '60')

  t.equal((await get(h, '/login', '198.51.100.2')).statusCode, 200, 'another address: its own')
  for (let i = 0; i < 10; i++) {
    t.equal((await get(h, '/healthz', ip)).statusCode, 200, 'probes are never limited')
    t.equal((await get(h, '/readyz', ip)).statusCode, 200)
  }
  const api = await h.app.inject({
    method: 'POST',
    url: '/v1/links',
    remoteAddress: ip,
    headers: asService,
    payload: { email: 'ip@example.com', deliver: 'none' },
  })
  t.equal(api.statusCode, 202, 'the API counts per key, not per IP')

  h.clock.advance(59)
  const later = await get(h, '/login', ip)
  t.equal(later.headers['retry-after'], '1', 'Retry-After counts down')
  h.clock.advance(1)
  t.equal((await get(h, '/login', ip)).statusCode, 200, 'a new window')
})

t.test('per client IP: X-Forwarded-For counts only with TRUST_PROXY', async (t) => {
  const direct = await started(t, { RATE_LIMIT_IP: '1/1m' })
  t.equal(
    (await get(direct, '/login', '192.0.2.1', { 'x-forwarded-for': '203.0.113.1' })).statusCode,
    200,
  )
  const spoofed = await get(direct, '/login', '192.0.2.1', { 'x-forwarded-for': '203.0.113.2' })
  t.equal(spoofed.statusCode, 429, 'a forged header does not escape the limit')

  const proxied = await started(t, { RATE_LIMIT_IP: '1/1m', TRUST_PROXY: 'true' })
  const via = (client: string) => get(proxied, '/login', '10.0.0.1', { 'x-forwarded-for': client })
  t.equal((await via('203.0.113.1')).statusCode, 200)
  t.equal((await via('203.0.113.2')).statusCode, 200, 'behind the proxy, each client its own')
  t.equal((await via('203.0.113.1')).statusCode, 429)

  // A proxy that appends (most load balancers) passes on whatever the client put first: the
  // address is the one the proxy saw, so a forged left-most entry buys no new allowance.
  const forged = (first: string) => via(`${first}, 203.0.113.9`)
  t.equal((await forged('198.51.100.1')).statusCode, 200)
  t.equal((await forged('198.51.100.2')).statusCode, 429, 'TRUST_PROXY=true trusts one hop only')

  const ranged = await started(t, { RATE_LIMIT_IP: '1/1m', TRUST_PROXY: '10.0.0.0/8' })
  const through = (chain: string) => get(ranged, '/login', '10.0.0.1', { 'x-forwarded-for': chain })
  t.equal((await through('198.51.100.1, 203.0.113.9, 10.0.0.2')).statusCode, 200)
  t.equal(
    (await through('198.51.100.2, 203.0.113.9, 10.1.2.3')).statusCode,
    429,
    'with proxy ranges: the first address outside them, whatever came before',
  )
})

t.test('per client IP: IPv6 addresses count by /64', async (t) => {
  const h = await started(t, { RATE_LIMIT_IP: '1/1m' })
  t.equal((await get(h, '/login', '2001:db8:1:2::1')).statusCode, 200)
  t.equal((await get(h, '/login', '2001:db8:1:2::ffff')).statusCode, 429, 'one /64, one budget')
  t.equal((await get(h, '/login', '2001:db8:1:3::1')).statusCode, 200, 'the next /64')
  t.equal((await get(h, '/login', '::ffff:192.0.2.9')).statusCode, 200)
  t.equal((await get(h, '/login', '192.0.2.9')).statusCode, 429, 'IPv4-mapped is IPv4')
})

t.test('per API key: each key its own budget, counted after authentication', async (t) => {
  const h = await started(t, { RATE_LIMIT_API_KEY: '3/1m' })
  const { app } = h
  const verify = (
    headers: Record<string, string>,
    payload: Record<string, unknown> = { token: 'x' },
  ) => app.inject({ method: 'POST', url: '/v1/links/verify', headers, payload })

  assertProblem(t, await verify(asService), 401, 'token_invalid')
  await apiLink(app, { email: 'key@example.com' })
  const refresh = await app.inject({
    method: 'POST',
    url: '/v1/sessions/refresh',
    headers: asService,
    payload: { refresh_token: 'x' },
  })
  assertProblem(t, refresh, [400, 401], undefined)

  const over = await verify(asService)
  assertProblem(t, over, 429, 'rate_limited')
  t.equal(over.headers['retry-after'], '60')
  t.equal(over.headers['cache-control'], 'no-store')
  t.equal(over.json().detail, 'Too many requests with this API key.')
  const unparsed = await app.inject({
    method: 'POST',
    url: '/v1/links',
    headers: { ...asService, 'content-type': 'application/json' },
    payload: '{not json',
  })
  assertProblem(t, unparsed, 429, 'rate_limited')
  t.pass('past the limit the body is not even parsed')

  const users = await app.inject({ method: 'GET', url: '/v1/admin/users', headers: asAdmin })
  t.equal(users.statusCode, 200, 'the admin key counts on its own')
  for (let i = 0; i < 2; i++) {
    t.equal(
      (await app.inject({ method: 'GET', url: '/v1/admin/outbox', headers: asAdmin })).statusCode,
      200,
    )
  }
  const adminOver = await verify(asAdmin)
  assertProblem(t, adminOver, 429, 'rate_limited')
  t.pass('one budget per key across the service and admin routes')

  const stranger = { authorization: `Bearer ${generateApiKey('nobody', 'admin').key}` }
  for (let i = 0; i < 5; i++) {
    assertProblem(t, await verify(stranger), 401, 'unauthorized')
  }
  assertProblem(t, await verify({}), 401, 'unauthorized')
  t.pass('an unknown key is 401, whatever the limits')

  const page = await app.inject({ method: 'GET', url: '/login' })
  t.equal(page.statusCode, 200, 'the pages are not behind any key')

  h.clock.advance(60)
  assertProblem(t, await verify(asService), 401, 'token_invalid')
  t.pass('a new window')
})

t.test('per recipient: email and user_id share one counter per address', async (t) => {
  const h = await started(t, { RATE_LIMIT_RECIPIENT: '3/15m' })
  const { app } = h
  const ada = await apiLink(app, { email: 'Ada@Example.com' })
  t.equal(ada.body.delivery, 'none', 'deliver "none" is not counted')

  const byEmail = (email: string) => postLink(app, { email })
  const byId = (userId: string) => postLink(app, { user_id: userId })
  t.equal((await byEmail('Ada@Example.com')).statusCode, 202)
  t.equal((await byId(ada.userId)).statusCode, 202, 'by id: the same person')
  t.equal((await byEmail('  ada@EXAMPLE.COM ')).statusCode, 202, 'spelt differently: the same')

  const over = await byId(ada.userId)
  assertProblem(t, over, 429, 'rate_limited')
  t.equal(over.headers['retry-after'], String(15 * 60))
  t.equal(over.json().detail, 'Too many sign-in emails were requested for this address.')
  assertProblem(t, await byEmail('ada@example.com'), 429, 'rate_limited')

  for (let i = 0; i < 5; i++) {
    const none = await postLink(app, { email: 'ada@example.com', deliver: 'none' })
    t.equal(none.statusCode, 202, 'deliver "none" sends nothing, so it is neither counted nor held')
  }
  t.equal((await byEmail('grace@example.com')).statusCode, 202, 'another address: its own')

  await app.outbox.runOnce()
  t.equal(h.mail.filter((m) => m.to.toLowerCase() === 'ada@example.com').length, 3, 'three emails')

  h.clock.advance(15 * 60)
  t.equal((await byId(ada.userId)).statusCode, 202, 'a new window')

  const unknownId = await postLink(app, { user_id: '00000000-0000-7000-8000-000000000000' })
  assertProblem(t, unknownId, 404, 'not_found')
  const invalid = await postLink(app, { email: 'not an address' })
  assertProblem(t, invalid, 400, 'invalid_request')
  t.pass('a request that would send nothing is not counted')
  for (const line of h.logs) {
    t.notMatch(line.toLowerCase(), /ada@example\.com/, 'no address in the logs')
  }
})

t.test('per recipient: +tags do not buy one inbox more emails', async (t) => {
  const h = await started(t, { RATE_LIMIT_RECIPIENT: '3/15m' })
  for (const email of ['ada+1@example.com', 'ADA+news@example.com', 'ada@example.com']) {
    t.equal((await postLink(h.app, { email })).statusCode, 202, email)
  }
  assertProblem(t, await postLink(h.app, { email: 'ada+4@example.com' }), 429, 'rate_limited')
  t.equal(
    (await postLink(h.app, { email: '+ada@example.com' })).statusCode,
    202,
    'a + first is its own',
  )
  t.equal((await postLink(h.app, { email: 'adam@example.com' })).statusCode, 202, 'another inbox')
})

t.test('per recipient: Gmail’s dotted spellings and googlemail.com are one inbox', async (t) => {
  const h = await started(t, { RATE_LIMIT_RECIPIENT: '5/15m' })
  // The reproduction: seven spellings of one inbox, seven 202s.
  const spellings = [
    'j.doe@gmail.com',
    'jd.oe@gmail.com',
    'jdo.e@gmail.com',
    'j.d.oe@gmail.com',
    'jdoe+x@googlemail.com',
    'J.Doe@googlemail.com',
    'j.d.o.e@gmail.com',
  ]
  const statuses = []
  const users = new Set<string>()
  for (const email of spellings) {
    const res = await postLink(h.app, { email })
    statuses.push(res.statusCode)
    if (res.statusCode === 202) users.add(res.json().user_id)
  }
  t.same(statuses, [202, 202, 202, 202, 202, 429, 429], 'one budget: five emails, then 429')
  t.equal(users.size, 5, 'each spelling is a user of its own; only the budget is shared')
  await h.app.outbox.runOnce()
  t.equal(h.mail.length, 5, 'five emails reached the inbox')
  t.equal((await postLink(h.app, { email: 'jdoe2@gmail.com' })).statusCode, 202, 'another inbox')
  t.equal((await postLink(h.app, { email: 'j.doe@example.com' })).statusCode, 202, 'elsewhere')
  t.equal((await postLink(h.app, { email: 'jd.oe@example.com' })).statusCode, 202, 'dots count')
})

t.test('per recipient: known, unknown and disabled addresses get the same 429', async (t) => {
  const h = await started(t, { RATE_LIMIT_RECIPIENT: '2/15m' })
  const { app } = h
  await apiLink(app, { email: 'known@example.com' })
  const disabled = await apiLink(app, { email: 'disabled@example.com' })
  await adminAction(app, disabled.userId, 'disable')

  const answers: LightMyRequestResponse[] = []
  for (const email of ['known@example.com', 'unknown@example.com', 'disabled@example.com']) {
    for (let i = 0; i < 2; i++) {
      const res = await postLink(app, { email, create_user: false })
      t.equal(res.statusCode, 202, `${email}: 202 within the limit`)
    }
    const res = await postLink(app, { email, create_user: false })
    assertProblem(t, res, 429, 'rate_limited')
    answers.push(res)
  }
  const [known, ...others] = answers.map(comparable)
  for (const other of others) t.same(other, known, 'byte for byte the same answer')

  const pages: LightMyRequestResponse[] = []
  for (const email of ['known@example.com', 'unknown@example.com', 'disabled@example.com']) {
    pages.push(await requestLink(new Browser(app), email, { next: '/app' }))
  }
  const [knownPage, ...otherPages] = pages.map(comparable)
  t.equal(knownPage?.status, 429)
  for (const other of otherPages) t.same(other, knownPage, 'and the same page for people')
})

t.test('the hosted form: a page past the recipient limit, sharing the API’s counter', async (t) => {
  const h = await started(t, { RATE_LIMIT_RECIPIENT: '2/15m' })
  const { app } = h
  t.equal((await postLink(app, { email: 'lin@example.com' })).statusCode, 202, 'one by the API')
  const b = new Browser(app)
  t.match(heading((await requestLink(b, 'lin@example.com')).body), HEADINGS.sent, 'one by the form')

  const other = new Browser(app)
  const page = await requestLink(other, 'lin@example.com', { next: '/app' })
  assertTooManyPage(t, page, /^Too many sign-in emails$/, '15 minutes')
  t.equal(page.headers['retry-after'], '900')
  t.ok(
    page.body.includes('Too many sign-in emails were requested for this address.'),
    'says which limit',
  )
  t.notOk(page.body.includes('lin@example.com'), 'does not repeat the address')
  t.match(page.body, /href="\/login\?next=%2Fapp"/, 'back to the form, keeping the target')
  t.notOk(setCookie(page, COOKIE.binding), 'this browser is not bound to a link it did not get')

  await app.outbox.runOnce()
  t.equal(h.mail.filter((m) => m.to === 'lin@example.com').length, 2, 'nothing more was sent')

  h.clock.advance(14 * 60 + 1)
  const soon = await requestLink(other, 'lin@example.com')
  assertTooManyPage(t, soon, /^Too many sign-in emails$/, '1 minute')
  h.clock.advance(59)
  t.match(heading((await requestLink(other, 'lin@example.com')).body), HEADINGS.sent, 'later')
})

/** The login form's fields, fetched once: a script posts them again and again. */
async function formOnce(b: Browser): Promise<Record<string, string>> {
  const page = await b.get('/login')
  return mustForm(page.body, '/login')
}

/** The number of users (admin API). */
async function userCount(h: TestApp): Promise<number> {
  const res = await h.app.inject({
    method: 'GET',
    url: '/v1/admin/users?limit=200',
    headers: asAdmin,
  })
  return res.json().users.length
}

t.test('the hosted form: 25 posts with one CSRF token no longer send 25 emails', async (t) => {
  // The reproduction, with the default limits: one form token, posted 25 times.
  const defaults = { RATE_LIMIT_FORM_IP: '10/15m', RATE_LIMIT_RECIPIENT: '5/15m' }

  // To one inbox, spelt 25 ways: the recipient limit holds it to five.
  const one = await started(t, defaults)
  const b = new Browser(one.app)
  const fields = await formOnce(b)
  const statuses = []
  for (let i = 0; i < 25; i++) {
    // Dots between any of the letters, a +tag, either domain: 25 spellings of jdoe@gmail.com.
    const local = [...'jdoe'].map((c, at) => (i & (1 << at) ? `${c}.` : c)).join('')
    const email = `${local.replace(/\.$/, '')}+${i}@${i % 2 ? 'gmail.com' : 'googlemail.com'}`
    statuses.push((await b.post('/login', { ...fields, email })).statusCode)
  }
  await one.app.outbox.runOnce()
  t.equal(statuses.filter((s) => s === 200).length, 5, `five accepted: ${statuses}`)
  t.equal(statuses.filter((s) => s === 429).length, 20, 'the rest: the rate-limited page')
  t.ok(one.mail.length <= 5, `at most five emails, not 25 (${one.mail.length})`)
  t.ok((await userCount(one)) <= 5, 'at most five users, not 25')

  // To 25 different inboxes: the per-IP form budget holds the script to ten.
  const many = await started(t, defaults)
  const c = new Browser(many.app)
  const token = await formOnce(c)
  const answers: LightMyRequestResponse[] = []
  for (let i = 0; i < 25; i++) {
    answers.push(await c.post('/login', { ...token, email: `victim-${i}@example.com` }))
  }
  await many.app.outbox.runOnce()
  t.same(
    answers.map((r) => r.statusCode),
    [...Array(10).fill(200), ...Array(15).fill(429)],
    'ten, then 429',
  )
  t.equal(many.mail.length, 10, 'ten emails, not 25')
  t.equal(await userCount(many), 10, 'ten users, not 25')
  const page = answers[10] as LightMyRequestResponse
  assertTooManyPage(t, page, /^Too many sign-in emails$/, '15 minutes')
  t.equal(page.headers['retry-after'], '900')
  t.ok(
    page.body.includes('Too many sign-in emails were requested from your network.'),
    'says which limit',
  )
  t.notOk(page.body.includes('victim-10@example.com'), 'does not repeat the address')
})

t.test('the form budget: the same page for every address, per client IP', async (t) => {
  const h = await started(t, { RATE_LIMIT_FORM_IP: '2/15m' })
  const { app } = h
  await apiLink(app, { email: 'known@example.com' })
  const disabled = await apiLink(app, { email: 'disabled@example.com' })
  await adminAction(app, disabled.userId, 'disable')

  const from = (ip: string) => {
    const b = new Browser(app)
    return async (email: string) => {
      const page = await b.get('/login')
      const res = await app.inject({
        method: 'POST',
        url: '/login',
        remoteAddress: ip,
        headers: {
          ...SAME_ORIGIN,
          cookie: [...b.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: new URLSearchParams({ ...mustForm(page.body, '/login'), email }).toString(),
      })
      return res
    }
  }
  const ask = from('198.51.100.7')
  const crossSite = await app.inject({
    method: 'POST',
    url: '/login',
    remoteAddress: '198.51.100.7',
    headers: {
      'sec-fetch-site': 'cross-site',
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: 'email=known%40example.com',
  })
  t.equal(crossSite.statusCode, 403, 'a forged post is refused before it counts')
  t.equal((await ask('not an address')).statusCode, 400, 'an invalid address counts')
  t.equal((await ask('known@example.com')).statusCode, 200)

  const pages: LightMyRequestResponse[] = []
  for (const email of ['known@example.com', 'unknown@example.com', 'disabled@example.com']) {
    pages.push(await ask(email))
  }
  const [known, ...others] = pages.map(comparable)
  t.equal(known?.status, 429)
  for (const other of others) t.same(other, known, 'byte for byte the same page')

  t.equal((await from('198.51.100.8')('known@example.com')).statusCode, 200, 'another IP: its own')
  const api = await postLink(app, { email: 'known@example.com' })
  t.equal(api.statusCode, 202, 'the API is not behind the form’s budget')

  h.clock.advance(15 * 60)
  t.equal((await ask('known@example.com')).statusCode, 200, 'a new window')
})

t.test('every limit off: nothing is counted', async (t) => {
  const h = await started(t, {})
  for (let i = 0; i < 30; i++) {
    t.equal((await get(h, '/login')).statusCode, 200)
    t.equal((await requestLink(new Browser(h.app), `form-${i}@example.com`)).statusCode, 200)
    t.equal((await postLink(h.app, { email: 'many@example.com' })).statusCode, 202)
  }
})

t.test(
  'the default per-key limit lets one busy backend through: over 100 calls a second',
  async (t) => {
    // RATE_LIMIT_API_KEY left to its default. The old default (6000 a minute) answered 429 here.
    const h = await build(t, { env: { RATE_LIMIT_API_KEY: undefined } })
    t.same(h.config.rateLimits.apiKey, { max: 6_000_000, windowSeconds: 60 })
    const calls = [
      { url: '/v1/links/verify', payload: { token: 'x'.repeat(64) } },
      { url: '/v1/sessions/refresh', payload: { refresh_token: 'x'.repeat(64) } },
      { url: '/v1/sessions/introspect', payload: { jwt: 'a.b.c' } },
    ]
    const statuses = new Map<number, number>()
    // 7,200 calls within one minute of the clock: 120 a second across verify, refresh, introspect.
    for (let i = 0; i < 7_200; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, (_, j) => {
          const call = calls[(i + j) % calls.length] as (typeof calls)[number]
          return h.app.inject({
            method: 'POST',
            url: call.url,
            headers: asService,
            payload: call.payload,
          })
        }),
      )
      for (const res of batch) statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    }
    t.equal(statuses.get(429), undefined, `no 429 (${JSON.stringify([...statuses])})`)
  },
)
