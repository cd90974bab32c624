import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import t from 'tap'
import type { Env } from '../../src/config/index.js'
import { mask } from '../../src/http/pages/answers.js'
import { Flag } from '../../src/tokens/codec.js'
import { KeyRing } from '../../src/tokens/keyring.js'
import { build, type TestApp } from '../helpers/app.js'
import { countingApp } from '../helpers/counting-store.js'
import { apiLink, postVerify } from '../helpers/http.js'
import {
  adminAction,
  assertSessionCookie,
  BROWSER_BOUND,
  Browser,
  flagsOf,
  formFields,
  HEADINGS,
  heading,
  mailedLink,
  mustForm,
  nextIn,
  openAndConfirm,
  postIntrospect,
  requestLink,
  tokenIn,
  userByEmail,
} from '../helpers/pages.js'
import { createDatabase } from '../helpers/postgres.js'

// One-click recovery: the page of an expired or used login link offers
// "Email me a new link", which sends a fresh, browser-bound link to the same person, on both
// stores. Forged, revoked, disabled and access links get no such button.

type Store = 'sqlite' | 'postgres'

async function harness(t: Test, store: Store, env: Env = {}): Promise<TestApp> {
  if (store === 'sqlite') return build(t, { env })
  const db = await createDatabase('latchkey_resend')
  t.teardown(() => db.drop())
  return build(t, { env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '4', ...env } })
}

const LINK_TTL = 900

for (const store of ['sqlite', 'postgres'] as const) {
  t.test(store, async (t) => {
    const h = await harness(t, store)
    const { app, clock } = h
    let counter = 0
    const fresh = (name: string) => `${name}-${++counter}@example.com`

    /** A link requested from the form in `b`, emailed. */
    const formLink = async (b: Browser, email: string, next?: string) => {
      const sent = await requestLink(b, email, next === undefined ? {} : { next })
      if (sent.statusCode !== 200) throw new Error(`POST /login answered ${sent.statusCode}`)
      return mailedLink(h, email)
    }
    const mailsTo = (email: string) => h.mail.filter((m) => m.to === email).length

    /** The page a link opens (GET) and the page its button leads to (POST), in `b`. */
    const pagesOf = async (b: Browser, link: string) => {
      const get = await b.get(link)
      const { csrf = '' } = mustForm((await b.get('/login')).body, '/login')
      const next = nextIn(link)
      const post = await b.post('/login/link', {
        csrf,
        token: tokenIn(link),
        ...(next === undefined ? {} : { next }),
      })
      return { get, post }
    }

    t.test('an expired link: "Email me a new link" → a new email → one click here', async (t) => {
      const email = fresh('expired')
      const asker = new Browser(app)
      const old = await formLink(asker, email, '/dashboard')
      clock.advance(LINK_TTL)

      // Opened later on another device: the page of an expired link, with the button.
      const phone = new Browser(app)
      const { get, post } = await pagesOf(phone, old)
      for (const [what, res] of [
        ['GET', get],
        ['POST', post],
      ] as const) {
        t.equal(res.statusCode, 400, `${what}: 400`)
        t.match(heading(res.body), HEADINGS.token_expired, `${what}: expired`)
        const resend = formFields(res.body, '/login/resend')
        t.same(
          resend && { ...resend, csrf: 'x' },
          { csrf: 'x', token: tokenIn(old), next: '/dashboard' },
          `${what}: the button posts the failed link's token and target`,
        )
        t.ok(formFields(res.body, '/login'), `${what}: another address stays an option`)
      }

      const before = h.mail.length
      const res = await phone.post('/login/resend', mustForm(get.body, '/login/resend'))
      t.equal(res.statusCode, 200, 'answered')
      t.match(heading(res.body), HEADINGS.sent, 'the "check your email" page')
      t.notOk(res.body.includes(email), 'the address is not on it: an old link names nobody')
      t.ok(res.body.includes(mask(email)), 'only masked, as on the link’s own page')
      t.equal(formFields(res.body, '/login/code'), undefined, 'no code form, which would name it')
      t.notOk(res.body.includes(tokenIn(old)), 'nor the token')

      const link = await mailedLink(h, email)
      t.equal(h.mail.length, before + 1, 'one new email, to the same person')
      t.not(tokenIn(link), tokenIn(old), 'a new link')
      t.equal(nextIn(link), '/dashboard', 'to the same target')
      t.ok(flagsOf(tokenIn(link)) & BROWSER_BOUND, 'browser-bound')

      // The phone asked this time: one click signs it in.
      const page = await phone.get(link)
      t.match(heading(page.body), HEADINGS.confirm)
      const signed = await phone.post('/login/link', mustForm(page.body, '/login/link'))
      t.equal(signed.statusCode, 303, 'signed in with one click')
      t.equal(signed.headers.location, '/dashboard')
      const jwt = assertSessionCookie(t, signed)
      const user = await userByEmail(app, email)
      t.match(await postIntrospect(app, jwt), { active: true, sub: user?.id })
      t.notOk(
        h.logs.some((line) => line.includes(tokenIn(old))),
        'the posted token is in no log line',
      )
    })

    t.test('a used link offers it too; the new link is for the same person', async (t) => {
      const email = fresh('used')
      const b = new Browser(app)
      const link = await formLink(b, email)
      const page = await b.get(link)
      t.equal((await b.post('/login/link', mustForm(page.body, '/login/link'))).statusCode, 200)
      const { get, post } = await pagesOf(b, link)
      for (const res of [get, post]) {
        t.match(heading(res.body), HEADINGS.token_used)
        t.equal(formFields(res.body, '/login/resend')?.token, tokenIn(link), 'the button')
      }
      const sent = await b.post('/login/resend', mustForm(get.body, '/login/resend'))
      t.match(heading(sent.body), HEADINGS.sent)
      const again = await mailedLink(h, email)
      t.not(tokenIn(again), tokenIn(link))
      const confirm = await b.get(again)
      const res = await b.post('/login/link', mustForm(confirm.body, '/login/link'))
      t.equal(res.statusCode, 200, 'signed in again, one click')
      t.match(heading(res.body), HEADINGS.signedIn)
    })

    t.test(
      'an expired IP-bound link: the button on its network only; renewed, bound again',
      async (t) => {
        // The Browser's requests come from 127.0.0.1, light-my-request's address.
        const email = fresh('ip')
        const here = await apiLink(app, { email, bind_ip: '127.0.0.1', ttl_seconds: 60 })
        const there = await apiLink(app, {
          email: fresh('ip-there'),
          bind_ip: '203.0.113.7',
          ttl_seconds: 60,
        })
        clock.advance(60)
        const b = new Browser(app)
        const { get, post } = await pagesOf(b, here.link)
        for (const res of [get, post]) {
          t.match(heading(res.body), HEADINGS.token_expired)
          t.equal(formFields(res.body, '/login/resend')?.token, here.token, 'the button')
        }
        const sent = await b.post('/login/resend', mustForm(get.body, '/login/resend'))
        t.match(heading(sent.body), HEADINGS.sent)
        const renewed = tokenIn(await mailedLink(h, email))
        t.ok(flagsOf(renewed) & Flag.IpBound, 'the new link is bound to the same network')
        const elsewhere = await pagesOf(new Browser(app), there.link)
        for (const res of [elsewhere.get, elsewhere.post]) {
          t.match(heading(res.body), HEADINGS.ip_mismatch, 'opened on another network')
          t.equal(formFields(res.body, '/login/resend'), undefined, 'no button')
        }
      },
    )

    t.test('forged, revoked, disabled and access links get no button', async (t) => {
      const cases: [string, () => Promise<string>][] = [
        [
          'forged',
          async () => {
            const { link, token } = await apiLink(app, { email: fresh('forged'), ttl_seconds: 60 })
            clock.advance(60)
            const bytes = Buffer.from(token, 'base64url')
            bytes[47] = (bytes[47] ?? 0) ^ 1
            return link.replace(token, bytes.toString('base64url'))
          },
        ],
        [
          'revoked',
          async () => {
            const { link, userId } = await apiLink(app, { email: fresh('revoked') })
            await adminAction(app, userId, 'revoke')
            return link
          },
        ],
        [
          'disabled',
          async () => {
            const { link, userId } = await apiLink(app, { email: fresh('disabled') })
            await adminAction(app, userId, 'disable')
            return link
          },
        ],
        [
          'expired, and revoked since',
          async () => {
            const { link, userId } = await apiLink(app, { email: fresh('x-rev'), ttl_seconds: 60 })
            await adminAction(app, userId, 'revoke')
            clock.advance(60)
            return link
          },
        ],
        [
          'expired, and its user disabled since',
          async () => {
            const { link, userId } = await apiLink(app, { email: fresh('x-dis'), ttl_seconds: 60 })
            await adminAction(app, userId, 'disable')
            clock.advance(60)
            return link
          },
        ],
        [
          'expired access link',
          async () => {
            const { link } = await apiLink(app, {
              email: fresh('access'),
              scope: 'read',
              ttl_seconds: 60,
            })
            clock.advance(60)
            return link
          },
        ],
      ]
      for (const [what, make] of cases) {
        const link = await make()
        const { get, post } = await pagesOf(new Browser(app), link)
        for (const res of [get, post]) {
          t.equal(res.statusCode, 400, `${what}: a link-error page`)
          t.equal(formFields(res.body, '/login/resend'), undefined, `${what}: no button`)
          t.notOk(res.body.includes(tokenIn(link)), `${what}: no token on the page`)
        }
      }
    })

    t.test('a posted token that cannot be renewed: the page without a button', async (t) => {
      const email = fresh('late-revoke')
      const { link, userId, token } = await apiLink(app, { email, ttl_seconds: 60 })
      clock.advance(60)
      const b = new Browser(app)
      const form = mustForm((await b.get(link)).body, '/login/resend')
      await adminAction(app, userId, 'revoke')
      const before = h.mail.length
      const revoked = await b.post('/login/resend', form)
      t.equal(revoked.statusCode, 400)
      t.match(heading(revoked.body), HEADINGS.token_revoked, 'revoked since: the reason')
      t.equal(formFields(revoked.body, '/login/resend'), undefined, 'no button')
      const scope = await apiLink(app, { email, scope: 'read', ttl_seconds: 60 })
      clock.advance(60)
      const access = await b.post('/login/resend', { ...form, token: scope.token })
      t.match(heading(access.body), HEADINGS.token_invalid, 'an access link is never renewed')
      const garbage = await b.post('/login/resend', { ...form, token: 'x'.repeat(64) })
      t.match(heading(garbage.body), HEADINGS.token_invalid)
      const moved = await b.post('/login/resend', { ...form, token, next: '/elsewhere' })
      t.match(heading(moved.body), HEADINGS.token_invalid, 'another target fails the MAC')
      await app.outbox.runOnce()
      t.equal(h.mail.length, before, 'nothing was sent')
    })

    t.test('a week past its expiry, a link is only expired: no button, nothing sent', async (t) => {
      const email = fresh('archived')
      const b = new Browser(app)
      const old = await formLink(b, email)
      clock.advance(LINK_TTL + 7 * 86_400 - 1)
      const late = (await b.get(old)).body
      t.match(heading(late), HEADINGS.token_expired)
      const form = mustForm(late, '/login/resend')
      t.ok(form, 'just inside the week: the button')
      clock.advance(1)
      const page = await b.get(old)
      t.match(heading(page.body), HEADINGS.token_expired, 'a week on: expired')
      t.equal(formFields(page.body, '/login/resend'), undefined, 'and no button')
      const before = h.mail.length
      const posted = await b.post('/login/resend', form)
      t.equal(posted.statusCode, 400)
      t.match(heading(posted.body), HEADINGS.token_expired, 'a stale form: the same page')
      await app.outbox.runOnce()
      t.equal(h.mail.length, before, 'nothing was sent')
    })

    t.test('without its CSRF token, or cross-site: 403, nothing sent', async (t) => {
      const email = fresh('csrf')
      const { link } = await apiLink(app, { email, ttl_seconds: 60 })
      clock.advance(60)
      const b = new Browser(app)
      const form = mustForm((await b.get(link)).body, '/login/resend')
      const { csrf: _csrf, ...noCsrf } = form
      const missing = await b.post('/login/resend', noCsrf)
      t.equal(missing.statusCode, 403)
      t.match(heading(missing.body), HEADINGS.forbidden)
      const crossSite = await b.post('/login/resend', form, {
        'sec-fetch-site': 'cross-site',
        origin: 'https://evil.example',
      })
      t.equal(crossSite.statusCode, 403, 'cross-site')
      await app.outbox.runOnce()
      t.equal(mailsTo(email), 0, 'nothing sent')
    })

    t.test('counted against the recipient budget: the 6th is the 429 page', async (t) => {
      const limited = await harness(t, store, { RATE_LIMIT_RECIPIENT: '5/15m' })
      const email = fresh('budget')
      const { link } = await apiLink(limited.app, { email, ttl_seconds: 60 })
      limited.clock.advance(60)
      const b = new Browser(limited.app)
      const form = mustForm((await b.get(link)).body, '/login/resend')
      const answers: LightMyRequestResponse[] = []
      for (let i = 0; i < 6; i++) answers.push(await b.post('/login/resend', form))
      for (const res of answers.slice(0, 5)) t.match(heading(res.body), HEADINGS.sent)
      const last = answers[5] as LightMyRequestResponse
      t.equal(last.statusCode, 429, 'the 6th is refused')
      t.match(heading(last.body), /^Too many sign-in emails$/)
      t.match(last.body, /requested for this address/, 'the recipient limit')
      t.ok(Number(last.headers['retry-after']) > 0, 'Retry-After')
      await limited.app.outbox.runOnce()
      t.equal(limited.mail.filter((m) => m.to === email).length, 5, 'five emails')
    })

    t.test('counted against the form’s per-IP budget, like POST /login', async (t) => {
      const limited = await harness(t, store, { RATE_LIMIT_FORM_IP: '1/15m' })
      const { link } = await apiLink(limited.app, { email: fresh('form'), ttl_seconds: 60 })
      limited.clock.advance(60)
      const b = new Browser(limited.app)
      const form = mustForm((await b.get(link)).body, '/login/resend')
      t.equal((await b.post('/login/resend', form)).statusCode, 200)
      const refused = await b.post('/login/resend', form)
      t.equal(refused.statusCode, 429)
      t.match(refused.body, /requested from your network/, 'the form limit')
    })

    t.test('the API still names the old link’s failure precisely', async (t) => {
      const { token } = await apiLink(app, { email: fresh('api'), ttl_seconds: 60 })
      clock.advance(60)
      t.equal((await postVerify(app, { token })).json().code, 'token_expired')
    })
  })
}

t.test('a failed link’s page opens it once: one MAC check, one user lookup', async (t) => {
  const h = await countingApp(t)
  const { calls } = h
  const opens = t.capture(KeyRing.prototype, 'open', KeyRing.prototype.open)
  const b = new Browser(h.app)
  /** What one request did: its answer, the key ring's openings and the users it read. */
  const workOf = async (send: () => Promise<LightMyRequestResponse>) => {
    opens()
    calls.length = 0
    const res = await send()
    const lookups = calls.filter((call) => call === 'findById').length
    return { res, opened: opens().length, lookups }
  }

  await requestLink(b, 'expires-once@example.com')
  const expired = await mailedLink(h, 'expires-once@example.com')
  h.clock.advance(LINK_TTL)
  await requestLink(b, 'used-once@example.com')
  const used = await mailedLink(h, 'used-once@example.com')
  t.equal((await openAndConfirm(b, used)).statusCode, 200, 'used')
  const { csrf = '' } = mustForm((await b.get('/login')).body, '/login')

  const cases: [string, 'token_expired' | 'token_used', () => Promise<LightMyRequestResponse>][] = [
    ['GET of an expired link', 'token_expired', () => b.get(expired)],
    ['GET of a used link', 'token_used', () => b.get(used)],
    [
      'POST of an expired link',
      'token_expired',
      () => b.post('/login/link', { csrf, token: tokenIn(expired) }),
    ],
  ]
  for (const [what, reason, send] of cases) {
    const { res, opened, lookups } = await workOf(send)
    t.match(heading(res.body), HEADINGS[reason], `${what}: its page`)
    t.ok(formFields(res.body, '/login/resend'), `${what}: with the button`)
    t.equal(opened, 1, `${what}: the token is opened once`)
    t.equal(lookups, 1, `${what}: its user is read once`)
  }
})
