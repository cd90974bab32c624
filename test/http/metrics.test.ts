import t from 'tap'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { DeliveryFailure, type MailMessage } from '../../src/mail/mailer.js'
import { adminKey, asAdmin, asService, build, serviceKey, tokenOf } from '../helpers/app.js'
import { apiLink, assertProblem, postLink, postVerify } from '../helpers/http.js'
import { parseScrape, type Sample, sampleValue, scrape } from '../helpers/metrics.js'
import { Browser, COOKIE, mustForm } from '../helpers/pages.js'

const metricsKey = generateApiKey('prometheus', 'metrics')
const asMetrics = { authorization: `Bearer ${metricsKey.key}` }
const API_KEYS = [serviceKey.entry, adminKey.entry, metricsKey.entry].join(',')

/** Every secret and personal value the tests used, to look for in the scrape afterwards. */
const used = new Set<string>([serviceKey.key, adminKey.key, metricsKey.key])

/** A mailer that refuses one address for good and fails another once, then sends. */
const sent: MailMessage[] = []
let flaky = 0
const mailer = {
  async send(message: MailMessage) {
    if (message.to === 'bounce@example.com') {
      throw new DeliveryFailure('invalid recipient', { permanent: true, status: 422 })
    }
    if (message.to === 'flaky@example.com' && flaky++ === 0) {
      throw new DeliveryFailure('provider busy', { permanent: false, status: 503 })
    }
    sent.push(message)
    return {}
  },
}

const harness = await build(t, {
  env: { API_KEYS, RATE_LIMIT_RECIPIENT: '2/15m' },
  overrides: { mailer, outbox: { autoStart: false, random: () => 0 } },
})
const { app, clock } = harness

const post = (url: string, payload?: Record<string, unknown>, headers = asService) =>
  app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) })

const metrics = async () => (await scrape(app, asMetrics.authorization)).samples
const counter = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  sampleValue(samples, name, labels) ?? 0

let n = 0
/** A new user signed in through the API: the ids, link, JWT and refresh token, all noted. */
async function signIn() {
  const email = `metrics-${++n}@example.com`
  const { token, userId, link } = await apiLink(app, { email })
  const res = await postVerify(app, { token })
  if (res.statusCode !== 200) throw new Error(`verify failed: ${res.body}`)
  const session = res.json().session
  for (const value of [email, userId, token, link, session.jwt, session.refresh_token]) {
    used.add(value)
  }
  used.add(session.session_id)
  return { email, userId, token, session }
}

t.test(
  'only a metrics or admin key reads /metrics; a metrics key reads nothing else',
  async (t) => {
    const get = (url: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'GET', url, headers })
    assertProblem(t, await get('/metrics'), 401, 'unauthorized')
    assertProblem(
      t,
      await get('/metrics', { authorization: 'Bearer lk_nope' }),
      401,
      'unauthorized',
    )
    assertProblem(t, await get('/metrics', asService), 403, 'forbidden')
    assertProblem(t, await get('/v1/admin/users', asMetrics), 403, 'forbidden')
    assertProblem(t, await postLink(app, { email: 'x@example.com' }, asMetrics), 403, 'forbidden')
    assertProblem(t, await get('/v1/revocations', asMetrics), [403, 404])

    for (const headers of [asMetrics, asAdmin]) {
      const res = await get('/metrics', headers)
      t.equal(res.statusCode, 200)
      t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
      t.equal(res.headers['cache-control'], 'no-store')
      t.doesNotThrow(() => parseScrape(res.body), 'every line is a sample or a comment')
    }
  },
)

t.test(
  'a scrape at rest: the database is up, nothing is queued, the process is described',
  async (t) => {
    const samples = await metrics()
    t.equal(sampleValue(samples, 'latchkey_database_up'), 1)
    t.equal(sampleValue(samples, 'latchkey_outbox_pending', { kind: 'email' }), 0)
    t.equal(
      sampleValue(samples, 'latchkey_outbox_oldest_pending_age_seconds', { kind: 'email' }),
      0,
    )
    t.equal(sampleValue(samples, 'latchkey_redis_up'), undefined, 'no Redis configured, no gauge')
    for (const name of ['process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes']) {
      t.ok(
        samples.some((s) => s.name === name),
        name,
      )
    }
  },
)

t.test('a sign-in, a refresh and failed verifications are counted by outcome', async (t) => {
  const before = await metrics()
  const { token, session } = await signIn()
  clock.advance(1)
  const refreshed = await post('/v1/sessions/refresh', { refresh_token: session.refresh_token })
  t.equal(refreshed.statusCode, 200)
  used.add(refreshed.json().jwt)
  used.add(refreshed.json().refresh_token)

  assertProblem(t, await postVerify(app, { token }), 401, 'token_used')
  const forged = `${token.slice(0, -4)}AAAA`
  used.add(forged)
  assertProblem(t, await postVerify(app, { token: forged }), 401, 'token_invalid')
  const expiring = await apiLink(app, { email: `metrics-${++n}@example.com`, ttl_seconds: 60 })
  used.add(expiring.token)
  clock.advance(61)
  assertProblem(t, await postVerify(app, { token: expiring.token }), 401, 'token_expired')
  const dry = await apiLink(app, { email: `metrics-${++n}@example.com` })
  used.add(dry.token)
  t.equal((await postVerify(app, { token: dry.token, consume: false })).statusCode, 200)

  const after = await metrics()
  const delta = (name: string, labels: Record<string, string> = {}) =>
    counter(after, name, labels) - counter(before, name, labels)
  t.equal(delta('latchkey_links_issued_total', { purpose: 'login', delivery: 'none' }), 3)
  const verified = 'latchkey_link_verifications_total'
  t.equal(delta(verified, { mode: 'use', outcome: 'ok' }), 1)
  t.equal(delta(verified, { mode: 'use', outcome: 'token_used' }), 1)
  t.equal(delta(verified, { mode: 'use', outcome: 'token_invalid' }), 1, 'a forgery counts')
  t.equal(delta(verified, { mode: 'use', outcome: 'token_expired' }), 1)
  t.equal(delta(verified, { mode: 'check', outcome: 'ok' }), 1, 'a dry run only looked')
  t.equal(delta('latchkey_sessions_created_total'), 1)
  t.equal(delta('latchkey_sessions_refreshed_total'), 1)
})

t.test(
  'sessions ended are counted by reason, a revoke or disable by how many it ended',
  async (t) => {
    const before = await metrics()
    const reused = await signIn()
    clock.advance(1)
    t.equal(
      (await post('/v1/sessions/refresh', { refresh_token: reused.session.refresh_token }))
        .statusCode,
      200,
    )
    clock.advance(60)
    const replay = await post('/v1/sessions/refresh', {
      refresh_token: reused.session.refresh_token,
    })
    assertProblem(t, replay, 401, 'token_used')

    const loggedOut = await signIn()
    t.equal(
      (await post('/v1/sessions/end', { session_id: loggedOut.session.session_id })).statusCode,
      204,
    )
    t.equal(
      (await post('/v1/sessions/end', { session_id: loggedOut.session.session_id })).statusCode,
      204,
    )

    const ended = await signIn()
    const del = await app.inject({
      method: 'DELETE',
      url: `/v1/admin/sessions/${ended.session.session_id}`,
      headers: asAdmin,
    })
    t.equal(del.statusCode, 204)

    // Two sessions of one user end with one revoke.
    const revoked = await signIn()
    const second = await postVerify(app, {
      token: (await apiLink(app, { user_id: revoked.userId })).token,
    })
    used.add(second.json().session.jwt)
    used.add(second.json().session.refresh_token)
    t.equal(
      (await post(`/v1/admin/users/${revoked.userId}/revoke`, undefined, asAdmin)).statusCode,
      200,
    )
    t.equal(
      (await post(`/v1/admin/users/${revoked.userId}/revoke`, undefined, asAdmin)).statusCode,
      200,
    )

    const disabled = await signIn()
    t.equal(
      (await post(`/v1/admin/users/${disabled.userId}/disable`, undefined, asAdmin)).statusCode,
      200,
    )

    const after = await metrics()
    const ends = (reason: string) =>
      counter(after, 'latchkey_sessions_ended_total', { reason }) -
      counter(before, 'latchkey_sessions_ended_total', { reason })
    t.equal(ends('refresh_reused'), 1)
    t.equal(ends('logout'), 1, 'ending an ended session again counts nothing')
    t.equal(ends('admin'), 1)
    t.equal(ends('revoked'), 2, 'both of the user’s sessions; the second revoke ended none')
    t.equal(ends('disabled'), 1)
  },
)

t.test('the hosted confirm page: opening it is a check, its button a use', async (t) => {
  const before = await metrics()
  const { token, link } = await apiLink(app, { email: `metrics-${++n}@example.com` })
  used.add(token)
  const browser = new Browser(app)
  const page = await browser.get(link)
  t.equal(page.statusCode, 200)
  const confirmed = await browser.post('/login/link', mustForm(page.body, '/login/link'))
  t.equal(confirmed.statusCode, 200)
  t.ok(browser.cookies.has(COOKIE.session), 'signed in: the session cookie is set')
  for (const value of browser.cookies.values()) used.add(value)

  const after = await metrics()
  const delta = (labels: Record<string, string>) =>
    counter(after, 'latchkey_link_verifications_total', labels) -
    counter(before, 'latchkey_link_verifications_total', labels)
  t.equal(delta({ mode: 'check', outcome: 'ok' }), 1)
  t.equal(delta({ mode: 'use', outcome: 'ok' }), 1)
  t.equal(
    counter(after, 'latchkey_sessions_created_total') -
      counter(before, 'latchkey_sessions_created_total'),
    1,
  )
})

t.test('the outbox: queued links, its depth and age, and emails by state', async (t) => {
  const before = await metrics()
  for (const email of ['queued@example.com', 'bounce@example.com', 'flaky@example.com']) {
    used.add(email)
    t.equal((await postLink(app, { email, create_user: true })).statusCode, 202)
  }
  clock.advance(30)
  const waiting = await metrics()
  t.equal(sampleValue(waiting, 'latchkey_outbox_pending', { kind: 'email' }), 3)
  t.equal(sampleValue(waiting, 'latchkey_outbox_oldest_pending_age_seconds', { kind: 'email' }), 30)
  t.equal(
    counter(waiting, 'latchkey_links_issued_total', { purpose: 'login', delivery: 'queued' }) -
      counter(before, 'latchkey_links_issued_total', { purpose: 'login', delivery: 'queued' }),
    3,
  )

  await app.outbox.runOnce()
  const retrying = await metrics()
  t.equal(sampleValue(retrying, 'latchkey_outbox_pending', { kind: 'email' }), 1, 'the retry waits')
  // Past the backoff, well within the link's life (an expired link is dropped, not sent).
  clock.advance(60)
  await app.outbox.runOnce()
  for (const message of sent) used.add(message.text)

  const after = await metrics()
  const emails = (state: string) =>
    counter(after, 'latchkey_outbox_deliveries_total', { kind: 'email', state }) -
    counter(before, 'latchkey_outbox_deliveries_total', { kind: 'email', state })
  t.equal(emails('sent'), 2)
  t.equal(emails('failed'), 1)
  t.equal(emails('retried'), 1)
  t.equal(sampleValue(after, 'latchkey_outbox_pending', { kind: 'email' }), 0)
  t.equal(sampleValue(after, 'latchkey_outbox_oldest_pending_age_seconds', { kind: 'email' }), 0)
})

t.test('a request past a rate limit is counted by the limit’s name', async (t) => {
  const before = await metrics()
  const email = 'limited@example.com'
  used.add(email)
  t.equal((await postLink(app, { email })).statusCode, 202)
  t.equal((await postLink(app, { email })).statusCode, 202)
  assertProblem(t, await postLink(app, { email }), 429, 'rate_limited')
  const after = await metrics()
  const name = 'latchkey_rate_limited_total'
  t.equal(
    counter(after, name, { limit: 'recipient' }) - counter(before, name, { limit: 'recipient' }),
    1,
  )
})

t.test('requests are counted by route pattern, never by URL', async (t) => {
  const { userId } = await signIn()
  const lookups = 3
  for (let i = 0; i < lookups; i++) {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/admin/users/${userId}`,
      headers: asAdmin,
    })
    t.equal(res.statusCode, 200)
  }
  const probe = '/no-such-page/SECRET-PATH-PART'
  t.equal((await app.inject({ method: 'GET', url: probe })).statusCode, 404)
  const linkPage = `/login/link?token=${(await apiLink(app, { user_id: userId })).token}`
  t.equal((await app.inject({ method: 'GET', url: linkPage })).statusCode, 200)

  const { text, samples } = await scrape(app, asMetrics.authorization)
  const requests = (route: string, status: string, method = 'GET') =>
    sampleValue(samples, 'latchkey_http_requests_total', { method, route, status })
  t.equal(requests('/v1/admin/users/:id', '200'), lookups)
  t.ok((requests('unmatched', '404') ?? 0) >= 1, 'an unknown URL is one route value')
  t.ok((requests('/login/link', '200') ?? 0) >= 1)
  t.ok((requests('/v1/links/verify', '401', 'POST') ?? 0) >= 1, 'failures too, by status')
  t.notMatch(text, 'SECRET-PATH-PART')
  t.notMatch(text, 'no-such-page')
  const routes = new Set(
    samples.filter((s) => s.name.startsWith('latchkey_http_')).map((s) => s.labels.route),
  )
  for (const route of routes) {
    t.ok(route === 'unmatched' || route?.startsWith('/'), `${route} is a pattern`)
    t.notMatch(route ?? '', /[0-9a-f]{8}-[0-9a-f]{4}-|\?/, `${route} holds no id or query`)
  }
  const count = sampleValue(samples, 'latchkey_http_request_duration_seconds_count', {
    method: 'GET',
    route: '/v1/admin/users/:id',
    status_class: '2xx',
  })
  t.equal(count, lookups, 'the latency histogram, by the same pattern')
})

t.test('no token, JWT, API key, email address or id appears in a scrape', async (t) => {
  const { text } = await scrape(app, asAdmin.authorization)
  t.ok(used.size > 40, `${used.size} values to look for`)
  for (const value of used) {
    t.notOk(text.includes(value), `absent: ${value.slice(0, 12)}…`)
  }
  t.notMatch(text, /@example\.com/, 'no address at all')
  t.notMatch(text, /lk_[A-Za-z0-9_-]{20}/, 'no API key')
  t.notMatch(text, /eyJ[A-Za-z0-9_-]{10}/, 'no JWT')
  const emailed = sent.map((m) => tokenOf(/https:\/\/\S+/.exec(m.text)?.[0] ?? 'https://x/'))
  for (const token of emailed) if (token) t.notOk(text.includes(token), 'no emailed token')
})

t.test('each app counts its own: two apps in one process do not share counters', async (t) => {
  const other = await build(t, { env: { API_KEYS } })
  const { samples } = await scrape(other.app, asMetrics.authorization)
  t.equal(sampleValue(samples, 'latchkey_sessions_created_total'), 0)
  t.equal(
    sampleValue(samples, 'latchkey_link_verifications_total', { mode: 'use', outcome: 'ok' }),
    undefined,
  )
  t.ok(counter(await metrics(), 'latchkey_sessions_created_total') > 0, 'while the first counts on')
})
