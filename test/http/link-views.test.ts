import { Writable } from 'node:stream'
import type { Test } from 'tap'
import t from 'tap'
import { buildDeps } from '../../src/app.js'
import type { Env } from '../../src/config/index.js'
import { createHttpApp } from '../../src/http/http-app.js'
import { appLogger } from '../../src/http/logging.js'
import { asAdmin, asService, build, type TestApp, testConfig } from '../helpers/app.js'
import { apiLink, assertProblem, postLink, postVerify } from '../helpers/http.js'
import { sampleValue, scrape } from '../helpers/metrics.js'
import {
  Browser,
  HEADINGS,
  heading,
  mailedLink,
  mustForm,
  requestLink,
  tokenIn,
} from '../helpers/pages.js'
import { createDatabase } from '../helpers/postgres.js'
import { tempDir } from '../helpers/temp.js'

// Scanner telemetry, on both stores: every GET and HEAD of a link's page whose
// MAC passes is recorded as link.viewed, and GET /v1/admin/stats/link-views tells a mail
// scanner's prefetch from the person's own click.

const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const SCANNER = 'Mozilla/5.0 (compatible; Barracuda Sentinel link protection)'

type Store = 'sqlite' | 'postgres'

async function harness(t: Test, store: Store, env: Env = {}): Promise<TestApp> {
  if (store === 'sqlite') return build(t, { env })
  const db = await createDatabase('latchkey_views')
  t.teardown(() => db.drop())
  return build(t, { env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '4', ...env } })
}

interface Event {
  type: string
  user_id: string | null
  actor: string
  ip: string | null
  user_agent: string | null
  detail: Record<string, unknown>
}

async function auditOf(h: TestApp, userId: string, type?: string): Promise<Event[]> {
  const query = new URLSearchParams({ user_id: userId, limit: '200', ...(type ? { type } : {}) })
  const res = await h.app.inject({
    method: 'GET',
    url: `/v1/admin/audit?${query}`,
    headers: asAdmin,
  })
  if (res.statusCode !== 200) throw new Error(`audit answered ${res.statusCode}`)
  return (res.json().events as Event[]).toReversed()
}

async function userId(h: TestApp, email: string): Promise<string> {
  const res = await h.app.inject({
    method: 'GET',
    url: `/v1/admin/users?email=${encodeURIComponent(email)}`,
    headers: asAdmin,
  })
  return res.json().users[0].id
}

/** A token's expiry, from its bytes (DESIGN: offset 20, 4 bytes big-endian). */
const expiryOf = (token: string) => Buffer.from(token, 'base64url').readUInt32BE(20)

/** An email sent by the API (not from the form: no browser is bound), and its link. */
async function emailedByApi(h: TestApp, email: string): Promise<string> {
  const res = await postLink(h.app, { email, create_user: true })
  if (res.statusCode !== 202) throw new Error(`issue failed: ${res.statusCode} ${res.body}`)
  return mailedLink(h, email)
}

/** A scanner's look at a link: HEAD, then GET, without cookies. */
async function scan(h: TestApp, link: string) {
  const scanner = new Browser(h.app)
  const head = await scanner.head(link, { 'user-agent': SCANNER })
  const get = await scanner.get(link, { 'user-agent': SCANNER })
  return { head, get }
}

async function stats(h: TestApp, since?: string) {
  const query = since === undefined ? '' : `?since=${encodeURIComponent(since)}`
  return h.app.inject({
    method: 'GET',
    url: `/v1/admin/stats/link-views${query}`,
    headers: asAdmin,
  })
}

for (const store of ['sqlite', 'postgres'] as const) {
  t.test(`${store}: a scanner's prefetch is told apart from the person's click`, async (t) => {
    const h = await harness(t, store)
    const { app, clock } = h

    // Link 1: asked for from the form by the person's browser, opened first by a scanner.
    const person = new Browser(app)
    const email = 'ada@corp.example'
    t.equal((await requestLink(person, email)).statusCode, 200)
    const link = await mailedLink(h, email)
    const token = tokenIn(link)
    const ada = await userId(h, email)
    const before = await auditOf(h, ada)

    clock.advance(3)
    const scanned = await scan(h, link)
    t.equal(scanned.head.statusCode, 200, 'HEAD: the page, as before')
    t.equal(scanned.head.body, '', 'HEAD: no body')
    t.equal(scanned.get.statusCode, 200, 'GET: the page, as before')
    t.match(heading(scanned.get.body), HEADINGS.confirm)

    // GET and HEAD changed nothing but the audit trail: the link still works (seq, rev), and
    // the only new events are the two views.
    const dryRun = await postVerify(app, { token, consume: false })
    t.equal(dryRun.statusCode, 200, 'the link is still usable: seq and rev did not move')
    const after = await auditOf(h, ada)
    t.same(
      after.slice(before.length).map((e) => e.type),
      ['link.viewed', 'link.viewed'],
      'only the two views were recorded',
    )
    const [head, get] = after.slice(before.length) as [Event, Event]
    t.same(
      head.detail,
      {
        expires_at: expiryOf(token),
        seconds_since_issue: 3,
        method: 'HEAD',
        cookie: false,
        ua_family: 'scanner',
        domain: 'corp.example',
      },
      "the scanner's HEAD: seconds since the email, no cookie, a scanner",
    )
    t.match(get.detail, { method: 'GET', cookie: false, ua_family: 'scanner' })
    t.equal(head.actor, 'hosted')
    t.equal(head.user_agent, SCANNER, 'the raw user agent only in its column, as other events')

    // Link 2 (another domain): only ever opened by the scanner.
    const mailLink = await emailedByApi(h, 'bob@mail.example')
    clock.advance(5)
    await scan(h, mailLink)
    // Link 4 (same domain): opened by the scanner 10 s after sending.
    const otherLink = await emailedByApi(h, 'cy@mail.example')
    clock.advance(10)
    await scan(h, otherLink)

    // The person opens link 1 in their own browser, a minute later, and signs in.
    clock.advance(60)
    const page = await person.get(link, { 'sec-fetch-site': 'none', 'user-agent': CHROME })
    t.equal(page.statusCode, 200)
    const signedIn = await person.post('/login/link', mustForm(page.body, '/login/link'), {
      'sec-fetch-site': 'same-origin',
      origin: 'https://login.example.test',
      'user-agent': CHROME,
    })
    t.equal(signedIn.statusCode, 200, 'signed in with one click: the cookie named them')
    const views = await auditOf(h, ada, 'link.viewed')
    t.match(
      views.at(-1)?.detail,
      { method: 'GET', cookie: true, ua_family: 'chrome', seconds_since_issue: 78 },
      "the person's own view carries the binding cookie",
    )
    const [verified] = await auditOf(h, ada, 'link.verified')
    t.equal(verified?.detail.expires_at, expiryOf(token), 'link.verified names the link')

    // Link 3: sent, never opened.
    await emailedByApi(h, 'dee@corp.example')

    const res = await stats(h)
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.equal(body.truncated, false)
    t.equal(body.until, new Date(clock.ms).toISOString())
    t.equal(body.since, new Date(clock.ms - 7 * 86_400_000).toISOString(), 'the last 7 days')
    t.same(body.domains, [
      {
        domain: 'corp.example',
        links_issued: 2,
        links_opened: 1,
        opened_before_person: 1,
        opened_only_without_cookie: 0,
        used: 1,
        median_seconds_to_first_view: 3,
      },
      {
        domain: 'mail.example',
        links_issued: 2,
        links_opened: 2,
        opened_before_person: 0,
        opened_only_without_cookie: 2,
        used: 0,
        median_seconds_to_first_view: 7.5,
      },
    ])

    // A window that starts after everything: nothing in it.
    clock.advance(3600)
    const later = await stats(h, new Date(clock.ms - 60_000).toISOString())
    t.same(later.json().domains, [], 'an ISO time as since')
    const hours = await stats(h, '2h')
    t.equal(hours.json().domains.length, 2, 'a duration as since')

    // Nothing recorded anywhere holds a token.
    const everything = await app.inject({
      method: 'GET',
      url: '/v1/admin/audit?limit=200',
      headers: asAdmin,
    })
    for (const l of [link, mailLink, otherLink]) {
      t.notOk(everything.body.includes(tokenIn(l)), 'no token in the audit trail')
    }
  })

  t.test(`${store}: expired, used and forged links`, async (t) => {
    const h = await harness(t, store)
    const { app, clock } = h
    const email = 'eve@corp.example'
    const link = await emailedByApi(h, email)
    const id = await userId(h, email)
    const token = tokenIn(link)

    // Used (through the API), then viewed: still a view of that link.
    t.equal((await postVerify(app, { token })).statusCode, 200)
    const used = await new Browser(app).get(link, { 'user-agent': SCANNER })
    t.match(heading(used.body), HEADINGS.token_used)
    let views = await auditOf(h, id, 'link.viewed')
    t.equal(views.length, 1, 'a used link: recorded')
    t.equal(views[0]?.detail.expires_at, expiryOf(token))

    // Expired: the key ring stops at the expiry, the view is recorded all the same.
    const second = await emailedByApi(h, email)
    clock.advance(3600)
    const expired = await new Browser(app).get(second, { 'user-agent': SCANNER })
    t.match(heading(expired.body), HEADINGS.token_expired)
    views = await auditOf(h, id, 'link.viewed')
    t.equal(views.length, 2, 'an expired link: recorded')
    t.match(views[1]?.detail, {
      expires_at: expiryOf(tokenIn(second)),
      seconds_since_issue: 3600,
      domain: 'corp.example',
    })
    // And its failed confirmation names the link too.
    const confirm = await new Browser(app).post('/login/link', { token: tokenIn(second) })
    t.equal(confirm.statusCode, 403, 'a form without its CSRF token is refused first')
    const failed = await postVerify(app, { token: tokenIn(second) })
    t.equal(failed.json().code, 'token_expired')
    const [failure] = await auditOf(h, id, 'link.failed')
    t.same(
      failure?.detail,
      { code: 'token_expired', expires_at: expiryOf(tokenIn(second)) },
      'link.failed carries the expiry (expired: before its purpose is read)',
    )

    // Forged: a flipped MAC byte names nobody, so nothing is recorded; metrics count it only
    // as a verification.
    const scrapeBefore = await scrape(app, asAdmin.authorization)
    const all = async () =>
      (
        await app.inject({ method: 'GET', url: '/v1/admin/audit?limit=200', headers: asAdmin })
      ).json().events.length
    const eventsBefore = await all()
    const fresh = await emailedByApi(h, email)
    const eventsAfterIssue = await all()
    const raw = Buffer.from(tokenIn(fresh), 'base64url')
    raw[47] = (raw[47] as number) ^ 1
    const forged = fresh.replace(tokenIn(fresh), raw.toString('base64url'))
    const res = await new Browser(app).get(forged, { 'user-agent': SCANNER })
    t.match(heading(res.body), HEADINGS.token_invalid)
    await new Browser(app).head(forged, { 'user-agent': SCANNER })
    t.equal(await all(), eventsAfterIssue, 'a forged link records nothing')
    t.ok(eventsAfterIssue > eventsBefore)
    const scrapeAfter = await scrape(app, asAdmin.authorization)
    const labels = { method: 'GET', cookie: 'false', ua_family: 'scanner' }
    t.equal(
      sampleValue(scrapeAfter.samples, 'latchkey_link_views_total', labels),
      sampleValue(scrapeBefore.samples, 'latchkey_link_views_total', labels),
      'a forgery is not a view',
    )
  })
}

t.test('metrics count every view by method, cookie and family', async (t) => {
  const h = await harness(t, 'sqlite')
  const link = await emailedByApi(h, 'fay@corp.example')
  const count = async (labels: Record<string, string>) =>
    sampleValue(
      (await scrape(h.app, asAdmin.authorization)).samples,
      'latchkey_link_views_total',
      labels,
    ) ?? 0
  const head = { method: 'HEAD', cookie: 'false', ua_family: 'scanner' }
  const get = { method: 'GET', cookie: 'false', ua_family: 'none' }
  const [heads, gets] = [await count(head), await count(get)]
  await scan(h, link)
  await scan(h, link)
  await new Browser(h.app).get(link, { 'user-agent': '' })
  t.equal(await count(head), heads + 2, 'two HEADs by a scanner')
  t.equal(await count(get), gets + 1, 'one GET without a user agent')
})

t.test('the stats endpoint: admin only, since checked', async (t) => {
  const h = await harness(t, 'sqlite')
  for (const since of [
    'yesterday',
    '7x',
    '-1d',
    '2026-13-45',
    '2999-01-01T00:00:00Z',
    '',
    '9999999999d',
    '36501d',
  ]) {
    const res = await stats(h, since)
    assertProblem(t, res, 400, 'invalid_request')
  }
  const unknown = await h.app.inject({
    method: 'GET',
    url: '/v1/admin/stats/link-views?since=7d&other=1',
    headers: asAdmin,
  })
  t.equal(unknown.statusCode, 400, 'an unknown parameter')
  const service = await h.app.inject({
    method: 'GET',
    url: '/v1/admin/stats/link-views',
    headers: asService,
  })
  assertProblem(t, service, 403)
  const none = await h.app.inject({ method: 'GET', url: '/v1/admin/stats/link-views' })
  assertProblem(t, none, 401)
  const empty = await stats(h, '24h')
  t.equal(empty.statusCode, 200)
  t.same(empty.json().domains, [])
})

t.test('a view that cannot be recorded is logged; the page is answered all the same', async (t) => {
  const logs: string[] = []
  const log = appLogger(
    'info',
    new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk))
        done()
      },
    }),
  )
  const deps = await buildDeps(testConfig(tempDir(t)), { mailer: { send: async () => ({}) } }, log)
  const app = await createHttpApp(deps, { log, trustProxy: false })
  t.teardown(async () => {
    await app.close()
    await deps.store.close()
  })
  const store = deps.store
  const record = store.recordEvent.bind(store)
  store.recordEvent = async (event, context, now) => {
    if (event.type === 'link.viewed') throw new Error('the disk is full')
    return record(event, context, now)
  }
  const { link, token } = await apiLink(app, { email: 'gus@corp.example' })
  for (const method of ['GET', 'HEAD'] as const) {
    const res = await app.inject({ method, url: new URL(link).pathname + new URL(link).search })
    t.equal(res.statusCode, 200, `${method}: the confirm page`)
  }
  const page = await app.inject({
    method: 'GET',
    url: new URL(link).pathname + new URL(link).search,
  })
  t.match(heading(page.body), HEADINGS.confirm)
  const warnings = logs.filter((line) => line.includes('a link view was not recorded'))
  t.equal(warnings.length, 3, 'each failure is logged')
  t.match(warnings[0], /the disk is full/, 'with its cause')
  t.notOk(logs.join('').includes(token), 'never the token')
})
