import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import t from 'tap'
import type { Env } from '../../src/config/index.js'
import { asAdmin, build, type TestApp } from '../helpers/app.js'
import { ManualClock } from '../helpers/clock.js'
import { postLink, postVerify } from '../helpers/http.js'
import {
  assertNoSession,
  Browser,
  formFields,
  HEADINGS,
  heading,
  mailedLink,
  mustForm,
  nextIn,
  postIntrospect,
  purposeOf,
  requestLink,
  tokenIn,
  userByEmail,
} from '../helpers/pages.js'
import { until } from '../helpers/poll.js'
import { createDatabase } from '../helpers/postgres.js'
import { startReceiver } from '../helpers/webhook-receiver.js'

// "This wasn't me", on both stores: every sign-in email carries a report
// link; its page changes nothing; its buttons void the pending links, pause sign-in emails to
// the inbox for 24 hours (the requester is answered as always) and, on the second button, end
// every session.

type Store = 'sqlite' | 'postgres'

async function harness(t: Test, store: Store, env: Env = {}, clock?: ManualClock) {
  const options = clock ? { clock } : {}
  if (store === 'sqlite') return build(t, { env, ...options })
  const db = await createDatabase('latchkey_report')
  t.teardown(() => db.drop())
  return build(t, {
    env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '4', ...env },
    ...options,
  })
}

const DAY = 24 * 3600
const REPORT = /https:\/\/login\.example\.test\/login\/report\?token=\S+/

/** The report link of the last email to `to` (the outbox is run first). */
async function reportLink(h: TestApp, to: string): Promise<string> {
  await h.app.outbox.runOnce()
  const message = h.mail.findLast((m) => m.to === to)
  const found = message && REPORT.exec(message.text)
  if (!found) throw new Error(`no report link in the mail to ${to}`)
  t.ok(message?.html.includes(found[0]), 'the HTML part carries the same report link')
  return found[0]
}

const get = (h: TestApp, path: string) =>
  h.app.inject({ method: 'GET', url: path, headers: asAdmin })

async function auditTypes(h: TestApp, userId: string): Promise<string[]> {
  const res = await get(h, `/v1/admin/audit?user_id=${userId}&limit=100`)
  return (res.json().events as { type: string }[]).map((e) => e.type)
}

async function outboxOf(h: TestApp, userId: string) {
  const res = await get(h, `/v1/admin/outbox?kind=email&user_id=${userId}&limit=50`)
  return res.json().messages as { status: string; reason: string | null }[]
}

for (const store of ['sqlite', 'postgres'] as const) {
  t.test(store, async (t) => {
    const h = await harness(t, store)
    const { app, clock } = h
    let counter = 0
    const fresh = (name: string) => `${name}-${++counter}@example.com`

    /** A person who asked for a link in `b`, signed in with it, and asked for another. */
    async function signedInWithPending(email: string) {
      const b = new Browser(app)
      await requestLink(b, email)
      const first = await mailedLink(h, email)
      const page = await b.get(first)
      const signed = await b.post('/login/link', mustForm(page.body, '/login/link'))
      const jwt = signed.cookies.find((c) => c.name === '__Host-latchkey-session')?.value ?? ''
      // Someone else asks for a link to this address: the email the person did not want.
      await requestLink(new Browser(app), email)
      const pending = await mailedLink(h, email)
      const report = await reportLink(h, email)
      const user = await userByEmail(app, email)
      return { b, jwt, pending, report, userId: user?.id ?? '' }
    }

    const stillUsable = async (link: string) =>
      (await postVerify(app, { token: tokenIn(link), consume: false })).statusCode === 200

    t.test('the report page: what it will do, and it changes nothing', async (t) => {
      const email = fresh('look')
      const { pending, report, userId } = await signedInWithPending(email)
      t.equal(purposeOf(tokenIn(report)), 5, 'a purpose-5 token')
      const before = await auditTypes(h, userId)
      const scanner = new Browser(app)
      for (let i = 0; i < 3; i++) {
        const res = await scanner.get(report)
        t.equal(res.statusCode, 200)
        t.match(heading(res.body), /^Didn’t ask to sign in\?$/)
        t.match(res.body, /l•••@example\.com/, 'the address, masked')
        t.notOk(res.body.includes(email), 'never the whole address')
        t.match(res.body, /Your existing sessions stay signed in/)
        t.equal(res.headers['cache-control'], 'no-store')
        t.equal(res.headers['referrer-policy'], 'no-referrer')
        t.match(res.headers['content-security-policy'], /default-src 'none'/)
        assertNoSession(t, res)
        const stop = formFields(res.body, '/login/report')
        t.same(Object.keys(stop ?? {}).sort(), ['csrf', 'token'], 'the first button')
        t.match(res.body, /name="end_sessions"/, 'a second, separate button')
      }
      t.equal((await scanner.head(report)).statusCode, 200, 'HEAD')
      t.same(await auditTypes(h, userId), before, 'no event')
      t.ok(await stillUsable(pending), 'the pending link still works: seq did not move')
      await requestLink(new Browser(app), email)
      await app.outbox.runOnce()
      const rows = await outboxOf(h, userId)
      t.equal(rows[0]?.status, 'sent', 'emails still flow')
    })

    t.test('"Stop these sign-in emails": the link dies, the inbox pauses 24 h', async (t) => {
      const email = fresh('stop')
      const { b, jwt, pending, report, userId } = await signedInWithPending(email)
      const reporter = new Browser(app)
      const page = await reporter.get(report)
      const res = await reporter.post('/login/report', mustForm(page.body, '/login/report'))
      t.equal(res.statusCode, 200)
      t.match(heading(res.body), /^Thanks, we’ve stopped it$/)
      t.match(res.body, /Your existing sessions stay signed in/)
      t.notOk(await stillUsable(pending), 'the pending link is void')
      const confirm = await b.get(pending)
      t.equal(confirm.statusCode, 400)
      t.match(heading(confirm.body), HEADINGS.token_used, 'its confirm page: "already used"')
      t.match(await postIntrospect(app, jwt), { active: true }, 'the session stays')

      const events = await get(h, `/v1/admin/audit?user_id=${userId}&type=user.reported`)
      const [event] = events.json().events
      t.match(event, {
        type: 'user.reported',
        actor: 'hosted',
        detail: { end_sessions: false, paused_until: clock.ms + DAY * 1000 },
      })
      t.notMatch(events.body, /token/, 'no token in the event')

      // Within 24 hours: the same answers, nothing sent.
      const mails = h.mail.length
      const form = await requestLink(new Browser(app), email)
      t.equal(form.statusCode, 200)
      t.match(heading(form.body), HEADINGS.sent, 'the form: the same "check your email"')
      const api = await postLink(app, { email, deliver: 'email' })
      t.equal(api.statusCode, 202, 'the API: the same 202')
      t.equal(api.json().delivery, 'queued')
      clock.advance(DAY - 60)
      await requestLink(new Browser(app), email)
      await app.outbox.runOnce()
      t.equal(h.mail.length, mails, 'nothing was sent')
      const rows = await outboxOf(h, userId)
      t.same(
        rows.slice(0, 3).map((r) => [r.status, r.reason]),
        Array(3).fill(['suppressed', 'reported']),
        'the rows are suppressed, reported',
      )
      t.ok((await auditTypes(h, userId)).includes('email.suppressed'))

      // After 24 hours, email flows again.
      clock.advance(60)
      await requestLink(b, email)
      const next = await mailedLink(h, email)
      t.equal(h.mail.length, mails + 1, 'sent again')
      const signed = await b.post('/login/link', mustForm((await b.get(next)).body, '/login/link'))
      t.equal(signed.statusCode, 200, 'and it signs in')

      // Pressing the button again is harmless.
      const again = await reporter.post('/login/report', mustForm(page.body, '/login/report'))
      t.equal(again.statusCode, 200, 'a second POST: the done page again')
    })

    t.test('"Also sign me out everywhere": every session ends, reason reported', async (t) => {
      const email = fresh('out')
      const { jwt, pending, report, userId } = await signedInWithPending(email)
      const reporter = new Browser(app)
      const page = await reporter.get(report)
      const forms = [...page.body.matchAll(/<form[\s\S]*?<\/form>/g)].map((m) => m[0])
      const second = forms.find((f) => f.includes('end_sessions')) ?? ''
      const fields = mustForm(second, '/login/report')
      t.equal(fields.end_sessions, 'yes')
      const res = await reporter.post('/login/report', fields)
      t.equal(res.statusCode, 200)
      t.match(res.body, /Every session of this account has ended/)
      const introspected = await postIntrospect(app, jwt)
      t.equal(introspected.active, false, 'the session JWT is inactive')
      t.ok(
        ['session_ended', 'token_revoked'].includes(introspected.reason as string),
        `reason ${introspected.reason}`,
      )
      const sessions = (await get(h, `/v1/admin/users/${userId}/sessions`)).json().sessions
      t.ok(sessions.length > 0)
      for (const s of sessions) t.equal(s.end_reason, 'reported', 'ended: reported')
      t.notOk(await stillUsable(pending), 'the pending link is void')
      const types = await auditTypes(h, userId)
      for (const type of ['user.reported', 'user.revoked', 'session.ended']) {
        t.ok(types.includes(type), type)
      }
      // On PostgreSQL the feed lists a change once every transaction older than it has ended
      // (its snapshot's xmin, cluster-wide), so under another test's load it can take a moment.
      const announced = await until(async () => {
        const feed = await h.app.inject({
          method: 'GET',
          url: '/v1/revocations?limit=1000',
          headers: asAdmin,
        })
        return feed
          .json()
          .revocations.some(
            (r: { user_id: string; reason: string }) =>
              r.user_id === userId && r.reason === 'reported',
          )
      }, 'the revocation feed to list the report')
      t.ok(announced, 'the revocation feed announces it')
      const later = await reporter.post('/login/report', fields)
      t.equal(later.statusCode, 400, 'a second POST: the link now names an older rev')
      t.equal(formFields(later.body, '/login/resend'), undefined, 'no button on it')
    })

    t.test('a report link is never a login link, nor a login link a report link', async (t) => {
      const email = fresh('purpose')
      const { pending, report } = await signedInWithPending(email)
      const b = new Browser(app)
      const asLogin = await b.get(`/login/link?token=${tokenIn(report)}`)
      t.equal(asLogin.statusCode, 400)
      t.match(heading(asLogin.body), HEADINGS.token_invalid)
      t.equal(formFields(asLogin.body, '/login/resend'), undefined, 'no recovery for it')
      const verify = await postVerify(app, { token: tokenIn(report) })
      t.equal(verify.json().code, 'token_invalid', 'nor through the API')
      const asReport = await b.get(`/login/report?token=${tokenIn(pending)}`)
      t.equal(asReport.statusCode, 400)
      t.match(heading(asReport.body), HEADINGS.token_invalid)
      const { csrf = '' } = mustForm((await b.get('/login')).body, '/login')
      const posted = await b.post('/login/report', { csrf, token: tokenIn(pending) })
      t.match(heading(posted.body), HEADINGS.token_invalid, 'nor posted')
      t.ok(await stillUsable(pending), 'and nothing happened')
      t.equal(nextIn(report), undefined)
    })

    t.test('after 7 days the report link is expired', async (t) => {
      const email = fresh('old')
      const { report, pending } = await signedInWithPending(email)
      clock.advance(7 * DAY)
      const res = await new Browser(app).get(report)
      t.equal(res.statusCode, 400)
      t.match(heading(res.body), HEADINGS.token_expired)
      t.equal(formFields(res.body, '/login/report'), undefined, 'no report button')
      t.equal(formFields(res.body, '/login/resend'), undefined, 'no resend button')
      t.equal(purposeOf(tokenIn(pending)), 1)
    })

    t.test('without its CSRF token: 403, nothing changes', async (t) => {
      const email = fresh('csrf')
      const { pending, report } = await signedInWithPending(email)
      const b = new Browser(app)
      const { csrf: _csrf, ...fields } = mustForm((await b.get(report)).body, '/login/report')
      const res = await b.post('/login/report', fields)
      t.equal(res.statusCode, 403)
      t.ok(await stillUsable(pending), 'the pending link still works')
    })

    t.test('one inbox, every spelling: Gmail dots and +tags are paused together', async (t) => {
      const b = new Browser(app)
      const email = `j.doe.${counter++}@gmail.com`
      await requestLink(b, email)
      const report = await reportLink(h, email)
      const page = await b.get(report)
      await b.post('/login/report', mustForm(page.body, '/login/report'))
      const other = `${email.replaceAll('.', '').replace('@gmailcom', '+x@googlemail.com')}`
      const mails = h.mail.length
      await requestLink(new Browser(app), other)
      await app.outbox.runOnce()
      t.equal(h.mail.length, mails, `${other}: the same inbox, paused too`)
    })
  })
}

t.test('user.reported reaches webhook receivers', async (t) => {
  const receiver = await startReceiver(t)
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  const h = await build(t, {
    clock: new ManualClock(Date.now),
    env: { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: secret },
  })
  const b = new Browser(h.app)
  await requestLink(b, 'hooked@example.com')
  const report = await reportLink(h, 'hooked@example.com')
  const page = await b.get(report)
  await b.post('/login/report', mustForm(page.body, '/login/report'))
  while ((await h.app.outbox.runOnce()) > 0) {}
  const bodies = receiver
    .delivered()
    .map((r) => JSON.parse(r.body) as { type: string; data: unknown })
  const reported = bodies.find((body) => body.type === 'user.reported')
  t.match(reported?.data, { detail: { end_sessions: false } }, 'announced, with its detail')
  t.notMatch(JSON.stringify(bodies), tokenIn(report), 'never the token')
})
