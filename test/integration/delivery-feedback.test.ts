import { randomBytes, randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import t, { type Test } from 'tap'
import type { Env } from '../../src/config/index.js'
import { asAdmin, build, type TestApp } from '../helpers/app.js'
import { type FakeResend, startFakeResend } from '../helpers/fake-resend.js'
import { assertProblem, postLink } from '../helpers/http.js'
import { Browser, HEADINGS, heading, requestLink } from '../helpers/pages.js'
import { createDatabase } from '../helpers/postgres.js'
import { startReceiver } from '../helpers/webhook-receiver.js'

// Delivery feedback end to end, on both stores: emails go out through the real
// Resend SDK to the local fake Resend, which gives each its id; callbacks are signed here as
// Resend (Svix) signs them, with the standardwebhooks library, the whsec_ secret and svix-*
// headers; what they change is read through the admin API.

type StoreKind = 'sqlite' | 'postgres'

const SECRET = `whsec_${randomBytes(24).toString('base64')}`
const OTHER_SECRET = `whsec_${randomBytes(24).toString('base64')}`

interface Rig {
  h: TestApp
  fake: FakeResend
}

async function rig(t: Test, store: StoreKind, env: Env = {}): Promise<Rig> {
  const fake = await startFakeResend()
  t.teardown(() => fake.close())
  let database: Env = {}
  if (store === 'postgres') {
    const db = await createDatabase('latchkey_feedback')
    t.teardown(() => db.drop())
    database = { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '4' }
  }
  const h = await build(t, {
    env: {
      MAIL_TRANSPORT: 'resend',
      RESEND_API_KEY: fake.apiKey,
      RESEND_BASE_URL: fake.url,
      RESEND_WEBHOOK_SECRET: SECRET,
      ...database,
      ...env,
    },
    // The real transport, built from the environment, as `latchkey serve` builds it.
    overrides: { mailer: undefined },
  })
  return { h, fake }
}

interface SignOptions {
  secret?: string
  id?: string
  /** When it was signed, ms; the app's clock now unless given. */
  at?: number
}

/** Headers for `body` as Svix signs for Resend. */
function svix(h: TestApp, body: string, options: SignOptions = {}): Record<string, string> {
  const id = options.id ?? `msg_${randomUUID()}`
  const seconds = Math.floor((options.at ?? h.clock.ms) / 1000)
  const signature = new Webhook(options.secret ?? SECRET).sign(id, new Date(seconds * 1000), body)
  return {
    'content-type': 'application/json',
    'svix-id': id,
    'svix-timestamp': String(seconds),
    'svix-signature': signature,
  }
}

/** A Resend callback's body, as its docs show it. */
function payload(type: string, emailId: string, bounce?: { type: string; subType: string }) {
  return JSON.stringify({
    type,
    created_at: '2030-01-01T00:00:00.000Z',
    data: {
      created_at: '2030-01-01T00:00:00.000Z',
      email_id: emailId,
      from: 'latchkey <login@localhost>',
      to: ['someone@example.com'],
      subject: 'Sign in',
      ...(bounce ? { bounce: { ...bounce, message: 'The recipient does not exist.' } } : {}),
    },
  })
}

const HARD = { type: 'Permanent', subType: 'General' }
const SOFT = { type: 'Transient', subType: 'MailboxFull' }

const post = (h: TestApp, body: string, headers: Record<string, string>) =>
  h.app.inject({ method: 'POST', url: '/v1/webhooks/resend', payload: body, headers })

/** Signs and posts one callback; its answer. */
const callback = (h: TestApp, body: string, options: SignOptions = {}) =>
  post(h, body, svix(h, body, options))

/** Asks for a link for `email` and runs the outbox: the answer and Resend's id of the email, if sent. */
async function request(rig: Rig, email: string) {
  const before = rig.fake.emails.length
  const res = await postLink(rig.h.app, { email })
  await rig.h.app.outbox.runOnce()
  const sent = rig.fake.emails.slice(before)
  return { res, sent, emailId: sent[0]?.id }
}

/** The answer to a link request, without what differs by nature (the expiry, the user). */
const shape = (res: { statusCode: number; json(): Record<string, unknown> }) => {
  const { expires_at: _e, user_id: _u, ...rest } = res.json()
  return { status: res.statusCode, body: rest }
}

const admin = (h: TestApp, method: 'GET' | 'DELETE', url: string) =>
  h.app.inject({ method, url, headers: asAdmin })

async function suppressions(h: TestApp) {
  return (await admin(h, 'GET', '/v1/admin/suppressions')).json().suppressions as {
    address: string
    reason: string
    expires_at: string | null
  }[]
}

async function events(h: TestApp, type: string) {
  return (await admin(h, 'GET', `/v1/admin/audit?type=${type}&limit=100`)).json().events as {
    type: string
    user_id: string | null
    actor: string
    detail: Record<string, unknown>
  }[]
}

async function outboxRows(h: TestApp, email: string) {
  const rows = (await admin(h, 'GET', '/v1/admin/outbox?limit=100')).json().messages as {
    id: string
    to: string
    status: string
    reason: string | null
    delivery: string | null
    delivery_at: string | null
  }[]
  return rows.filter((row) => row.to === email).reverse()
}

for (const store of ['sqlite', 'postgres'] as const) {
  t.test(`${store}: a hard bounce suppresses the inbox until an operator lifts it`, async (t) => {
    const r = await rig(t, store)
    const { h } = r
    const first = await request(r, 'ada@example.com')
    t.equal(first.sent.length, 1, 'the first email went to Resend')

    const res = await callback(h, payload('email.bounced', first.emailId as string, HARD))
    t.equal(res.statusCode, 200)
    t.same(res.json(), { result: 'recorded' })

    const [entry, ...others] = await suppressions(h)
    t.match(entry, { address: 'ada@example.com', reason: 'bounced', expires_at: null })
    t.same(others, [], 'one entry')
    const [bounced] = await events(h, 'email.bounced')
    const [row] = await outboxRows(h, 'ada@example.com')
    t.match(bounced, {
      user_id: first.res.json().user_id,
      actor: 'system',
      detail: { message_id: row?.id, permanent: true, bounce_type: 'Permanent' },
    })
    t.notOk(
      JSON.stringify(bounced).includes('does not exist'),
      'no diagnostic text, it quotes addresses',
    )
    t.match(row, { status: 'sent', delivery: 'bounced' }, 'still sent; the provider said bounced')
    t.ok(row?.delivery_at, 'when')

    // The next request is answered exactly as before, and nothing goes out.
    const second = await request(r, 'ada@example.com')
    t.same(shape(second.res), shape(first.res), 'the same answer')
    t.equal(second.sent.length, 0, 'no email to Resend')
    const rows = await outboxRows(h, 'ada@example.com')
    t.match(rows[1], { status: 'suppressed', reason: 'bounced' }, 'recorded as suppressed')
    t.equal((await events(h, 'email.suppressed')).length, 1, 'email.suppressed')
    // The hosted form answers the same page as for anyone, and sends nothing either.
    const page = async (email: string) => {
      const before = r.fake.emails.length
      const res = await requestLink(new Browser(h.app), email)
      await h.app.outbox.runOnce()
      return {
        status: res.statusCode,
        heading: heading(res.body),
        sent: r.fake.emails.length - before,
      }
    }
    const suppressedPage = await page('ada@example.com')
    t.match(suppressedPage, { status: 200, heading: HEADINGS.sent, sent: 0 }, 'the form: nothing')
    const other = await page('zed@example.com')
    t.equal(other.sent, 1, 'another address: sent')
    t.same({ ...other, sent: 0 }, suppressedPage, 'the page anyone else gets')
    // Any spelling of the inbox.
    t.equal((await request(r, 'Ada+x@Example.com')).sent.length, 0, 'another spelling: nothing')

    const lifted = await admin(h, 'DELETE', '/v1/admin/suppressions/ada%40example.com')
    t.equal(lifted.statusCode, 204)
    const third = await request(r, 'ada@example.com')
    t.equal(third.sent.length, 1, 'sent again once lifted')
    t.same(shape(third.res), shape(first.res))
  })

  t.test(`${store}: a bounce of a +tag address stops that address, not its inbox`, async (t) => {
    // Many servers refuse `+tag` addresses: were the bounce the inbox's, anyone could shut a
    // person's sign-in emails off by asking for a link to their address with a tag.
    const r = await rig(t, store)
    const { h } = r
    const tagged = await request(r, 'victim+nope@example.com')
    t.same((await callback(h, payload('email.bounced', tagged.emailId as string, HARD))).json(), {
      result: 'recorded',
    })
    t.match(await suppressions(h), [{ address: 'victim+nope@example.com', reason: 'bounced' }])
    t.equal((await request(r, 'victim@example.com')).sent.length, 1, 'the inbox still gets mail')
    t.equal((await request(r, 'Victim+Nope@example.com')).sent.length, 0, 'the bounced address not')
    t.equal(
      (await admin(h, 'DELETE', '/v1/admin/suppressions/victim%2Bnope%40example.com')).statusCode,
      204,
      'lifted by its own address',
    )
    t.equal((await request(r, 'victim+nope@example.com')).sent.length, 1, 'lifted: sent')
  })

  t.test(`${store}: a complaint suppresses too; a soft bounce does not`, async (t) => {
    const r = await rig(t, store)
    const { h } = r
    const bob = await request(r, 'bob@example.com')
    t.same((await callback(h, payload('email.complained', bob.emailId as string))).json(), {
      result: 'recorded',
    })
    t.match(await suppressions(h), [{ address: 'bob@example.com', reason: 'complained' }])
    t.match(await events(h, 'email.complained'), [{ detail: { message_id: String } }])
    t.equal((await request(r, 'bob@example.com')).sent.length, 0, 'nothing more to bob')
    t.match((await outboxRows(h, 'bob@example.com'))[1], {
      status: 'suppressed',
      reason: 'complained',
    })
    t.equal((await admin(h, 'DELETE', '/v1/admin/suppressions/bob%40example.com')).statusCode, 204)
    t.equal((await request(r, 'bob@example.com')).sent.length, 1, 'lifted: sent')

    const cy = await request(r, 'cy@example.com')
    t.same((await callback(h, payload('email.bounced', cy.emailId as string, SOFT))).json(), {
      result: 'recorded',
    })
    t.match(await events(h, 'email.bounced'), [
      { detail: { permanent: false, bounce_type: 'Transient', bounce_subtype: 'MailboxFull' } },
    ])
    t.match(await outboxRows(h, 'cy@example.com'), [{ delivery: 'soft_bounced' }])
    t.same(await suppressions(h), [], 'not suppressed')
    t.equal((await request(r, 'cy@example.com')).sent.length, 1, 'a soft bounce: sent again')

    // A type we cannot read is no reason to give an address up; any spelling of Permanent is.
    const dee = await request(r, 'dee@example.com')
    const odd = { type: 'x'.repeat(70), subType: 'General' }
    await callback(h, payload('email.bounced', dee.emailId as string, odd))
    t.same(await suppressions(h), [], 'an unreadable type: not suppressed')
    const eve = await request(r, 'eve@example.com')
    const lower = { type: 'permanent', subType: 'General' }
    await callback(h, payload('email.bounced', eve.emailId as string, lower))
    t.match(await suppressions(h), [{ address: 'eve@example.com', reason: 'bounced' }])
  })

  t.test(`${store}: delivered and delayed mark the row; the strongest report stays`, async (t) => {
    const r = await rig(t, store)
    const { h } = r
    const { emailId, res } = await request(r, 'dee@example.com')
    await callback(h, payload('email.delivery_delayed', emailId as string))
    t.match(await outboxRows(h, 'dee@example.com'), [{ delivery: 'delayed' }])
    for (const type of ['email.delivered', 'email.bounced', 'email.complained']) {
      t.same(await events(h, type), [], `a delay writes no ${type}`)
    }
    await callback(h, payload('email.delivered', emailId as string))
    t.match(await outboxRows(h, 'dee@example.com'), [{ delivery: 'delivered' }])
    t.match(await events(h, 'email.delivered'), [
      { user_id: res.json().user_id, detail: { message_id: String } },
    ])
    // A late delay does not undo the delivery.
    await callback(h, payload('email.delivery_delayed', emailId as string))
    t.match(await outboxRows(h, 'dee@example.com'), [{ delivery: 'delivered' }])
    t.same(await suppressions(h), [])
  })

  t.test(`${store}: unsigned, forged, stale and replayed callbacks change nothing`, async (t) => {
    const r = await rig(t, store)
    const { h } = r
    const { emailId } = await request(r, 'eve@example.com')
    const body = payload('email.bounced', emailId as string, HARD)
    const refused = async (headers: Record<string, string>, what: string, raw = body) => {
      const res = await post(h, raw, headers)
      assertProblem(t, res, 401, 'unauthorized')
      t.notOk(res.body.includes('eve@'), `${what}: the answer says nothing of the body`)
    }
    await refused({ 'content-type': 'application/json' }, 'unsigned')
    const signed = svix(h, body)
    await refused({ ...signed, 'svix-signature': 'v1,' }, 'empty signature')
    await refused(svix(h, body, { secret: OTHER_SECRET }), 'another secret')
    await refused(svix(h, body, { at: h.clock.ms - 10 * 60_000 }), '10 minutes old')
    await refused(svix(h, body, { at: h.clock.ms + 10 * 60_000 }), '10 minutes ahead')
    await refused({ ...signed, 'svix-timestamp': `${signed['svix-timestamp']}0` }, 'other time')
    await refused({ ...signed, 'svix-id': 'msg_other' }, 'another id')
    await refused(signed, 'body changed', body.replace('Permanent', 'Permanent '))
    const { 'svix-id': _, ...noId } = signed
    await refused(noId, 'no id')
    t.same(await suppressions(h), [], 'no suppression')
    t.same(await events(h, 'email.bounced'), [], 'no event')
    t.match(await outboxRows(h, 'eve@example.com'), [{ delivery: null }], 'the row untouched')

    // Within the tolerance, and with the key rotating (two signatures, one ours): accepted.
    const other = svix(h, body, { secret: OTHER_SECRET, id: signed['svix-id'] as string })
    const rotating = {
      ...signed,
      'svix-signature': `${other['svix-signature']} ${signed['svix-signature']}`,
    }
    h.clock.advance(4 * 60)
    t.same((await post(h, body, rotating)).json(), { result: 'recorded' })
    // The same callback again (a replay, or Resend's retry re-signed later): nothing more.
    t.same((await post(h, body, rotating)).json(), { result: 'duplicate' })
    h.clock.advance(60)
    const again = svix(h, body, { id: signed['svix-id'] as string })
    t.same((await post(h, body, again)).json(), { result: 'duplicate' }, 're-signed: duplicate')
    t.equal((await events(h, 'email.bounced')).length, 1, 'one event')
    t.equal((await suppressions(h)).length, 1, 'one entry')

    // Ids are forgotten by housekeeping after three days; by then the timestamp refuses a replay.
    h.clock.advance(3 * 24 * 3600)
    await h.app.housekeeping.runDue()
    await refused(signed, 'three days later', body)
    // Forgotten indeed: the same id signed now (as only Resend could) is a new callback.
    const resigned = svix(h, body, { id: signed['svix-id'] as string })
    t.same((await post(h, body, resigned)).json(), { result: 'recorded' }, 'the id was pruned')
  })

  t.test(`${store}: bounces and complaints go out as webhooks`, async (t) => {
    const receiver = await startReceiver(t)
    const r = await rig(t, store, {
      WEBHOOK_URLS: receiver.url,
      WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
      WEBHOOK_EVENTS: 'email.bounced,email.complained',
    })
    const { h } = r
    const one = await request(r, 'fay@example.com')
    const two = await request(r, 'gus@example.com')
    await callback(h, payload('email.bounced', one.emailId as string, HARD))
    const complaint = payload('email.complained', two.emailId as string)
    const headers = svix(h, complaint)
    await post(h, complaint, headers)
    await post(h, complaint, headers)
    while ((await h.app.outbox.runOnce()) > 0) {}
    const types = receiver.delivered().map((d) => (JSON.parse(d.body) as { type: string }).type)
    t.same(types.sort(), ['email.bounced', 'email.complained'], 'one each, the replay none')
  })
}

t.test('the route refuses what is not a callback', async (t) => {
  const r = await rig(t, 'sqlite')
  const { h } = r
  const { emailId } = await request(r, 'hal@example.com')
  const bad = async (body: string, what: string) => {
    const res = await callback(h, body)
    assertProblem(t, res, 400, 'invalid_request')
    t.pass(what)
  }
  await bad('{"type": "email.bounced", ', 'malformed JSON, validly signed')
  await bad('[]', 'not an object')
  await bad(JSON.stringify({ type: 'email.bounced', data: {} }), 'no email_id')
  t.same(await events(h, 'email.bounced'), [])
  t.same(await suppressions(h), [])

  const big = JSON.stringify({ type: 'email.bounced', data: { pad: 'x'.repeat(70_000) } })
  assertProblem(t, await callback(h, big), 413)

  t.same((await callback(h, payload('email.bounced', randomUUID(), HARD))).json(), {
    result: 'unknown_email',
  })
  t.same((await callback(h, payload('email.opened', emailId as string))).json(), {
    result: 'ignored',
  })
  t.same(await suppressions(h), [], 'neither suppressed anything')

  // Resend sends JSON, but the signature is over bytes: another content type is checked alike.
  const text = payload('email.delivered', emailId as string)
  const res = await post(h, text, { ...svix(h, text), 'content-type': 'text/plain' })
  t.same(res.json(), { result: 'recorded' })
})

t.test('without RESEND_WEBHOOK_SECRET the route is off (404)', async (t) => {
  const h = await build(t)
  const body = payload('email.bounced', randomUUID(), HARD)
  assertProblem(t, await post(h, body, svix(h, body)), 404, 'not_found')
})
