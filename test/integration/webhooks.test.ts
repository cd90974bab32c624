import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import t, { type Test } from 'tap'
import { v7 as uuidv7 } from 'uuid'
import { buildDeps } from '../../src/app.js'
import { outboxJobs } from '../../src/auth/outbox-jobs.js'
import type { Env } from '../../src/config/index.js'
import { queueWebhooks, type WebhookEvent } from '../../src/events/webhooks.js'
import { OutboxBell } from '../../src/outbox/bell.js'
import { OutboxWorker } from '../../src/outbox/worker.js'
import type { Store } from '../../src/store/index.js'
import type { OutboxMessage } from '../../src/store/outbox.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import {
  adminKey,
  asAdmin,
  build,
  linkSecret,
  serviceKey,
  type TestApp,
  testConfig,
} from '../helpers/app.js'
import { ManualClock } from '../helpers/clock.js'
import { apiLink, postLink, postVerify } from '../helpers/http.js'
import { until } from '../helpers/poll.js'
import { tempDir } from '../helpers/temp.js'
import { type Received, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'

// Webhooks end to end: events queued through the outbox, signed with the real standardwebhooks
// package, POSTed by the worker to real local receivers (node:http on 127.0.0.1). Time moves only
// through the ManualClock; the worker runs when a test says so, and `random` is fixed so the
// jittered backoff is exact: attempt n waits 0.75 × min(1 h, 5 s × 2^(n-1)).

const SECRET = `whsec_${randomBytes(32).toString('base64')}`
const DAY_S = 24 * 3600
const USER = '01900000-0000-7000-8000-00000000beef'

interface Rig {
  h: TestApp
  clock: ManualClock
  store: Store
  /** Queues the webhooks of one event, as the audit trail will; resolves to how many rows. */
  publish(type: string, fields?: Partial<WebhookEvent>): Promise<WebhookEvent>
  /** The webhook rows, oldest first. */
  rows(): Promise<OutboxMessage[]>
}

async function rig(
  t: Test,
  receivers: WebhookReceiver[],
  options: { env?: Env; clock?: ManualClock } = {},
): Promise<Rig> {
  const dataDir = tempDir(t)
  const clock = options.clock ?? new ManualClock()
  const env = {
    WEBHOOK_URLS: receivers.map((r) => r.url).join(','),
    WEBHOOK_SECRET: SECRET,
    ...options.env,
  }
  const database = testConfig(dataDir, env).database
  if (database.kind !== 'sqlite') throw new Error('tests run on SQLite')
  // The test's own handle, open after the app closes, to read what the worker left.
  const store = openSqliteStore(database.file)
  t.teardown(() => store.close())
  const h = await build(t, {
    dataDir,
    clock,
    env,
    overrides: { store, outbox: { random: () => 0.5 } },
  })
  const deps = { store, clock: clock.now, outboxBell: new OutboxBell() }
  return {
    h,
    clock,
    store,
    async publish(type, fields = {}) {
      const event: WebhookEvent = {
        id: uuidv7(),
        at: clock.ms,
        type,
        userId: USER,
        actor: 'system',
        detail: {},
        ...fields,
      }
      await queueWebhooks(deps, h.config.webhooks, event)
      return event
    },
    rows: async () =>
      (await store.listOutbox({ kind: 'webhook', limit: 1000 })).sort((a, b) =>
        a.id.localeCompare(b.id),
      ),
  }
}

const headers = (r: Received) => r.headers as Record<string, string>

/** Moves the clock to the row's next attempt (it must be pending). */
function advanceTo(t: Test, clock: ManualClock, row: OutboxMessage | undefined): void {
  if (row?.status !== 'pending') throw new Error(`not pending: ${JSON.stringify(row)}`)
  clock.advance(Math.max(0, row.nextAttemptAt - clock.ms) / 1000)
  t.ok(true, `clock at the next attempt, ${new Date(clock.ms).toISOString()}`)
}

t.test('signed per Standard Webhooks: standardwebhooks verifies what arrives', async (t) => {
  const receiver = await startReceiver(t)
  // The real time: Webhook.verify refuses a timestamp more than 5 minutes from its own clock.
  const { h, publish, rows } = await rig(t, [receiver], { clock: new ManualClock(Date.now) })
  const event = await publish('user.revoked', {
    actor: 'key:ops',
    detail: { rev: 3, reason: 'revoked' },
  })
  t.equal(await h.app.outbox.runOnce(), 1, 'one webhook handled')

  const [request] = receiver.received
  if (!request) throw new Error('nothing received')
  t.equal(request.path, '/hooks')
  t.equal(headers(request)['content-type'], 'application/json')
  t.equal(headers(request)['webhook-id'], event.id, 'webhook-id is the event id')
  t.match(headers(request)['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/)
  const verified = new Webhook(SECRET).verify(request.body, headers(request))
  t.same(
    verified,
    {
      type: 'user.revoked',
      timestamp: new Date(event.at).toISOString(),
      data: {
        user_id: USER,
        session_id: null,
        actor: 'key:ops',
        ip: null,
        user_agent: null,
        detail: { rev: 3, reason: 'revoked' },
      },
    },
    'the body verifies and is {type, timestamp, data}',
  )
  const tampered = request.body.replace('user.revoked', 'user.enabled')
  t.throws(() => new Webhook(SECRET).verify(tampered, headers(request)), 'a changed body fails')
  const other = `whsec_${randomBytes(32).toString('base64')}`
  t.throws(() => new Webhook(other).verify(request.body, headers(request)), 'another key fails')

  t.match(await rows(), [{ kind: 'webhook', status: 'sent', attempts: 1, userId: null }])
  const listed = await h.app.inject({
    method: 'GET',
    url: '/v1/admin/outbox?kind=webhook',
    headers: asAdmin,
  })
  t.match(listed.json().messages, [
    { kind: 'webhook', to: receiver.url, status: 'sent', user_id: null },
  ])
  t.notMatch(listed.body, /user\.revoked|"detail"/, 'the listing shows no payload')
})

t.test('each wanted event goes to every receiver; other types to none', async (t) => {
  const a = await startReceiver(t)
  const b = await startReceiver(t, '/other')
  const { h, publish, rows } = await rig(t, [a, b])
  const revoked = await publish('user.revoked')
  await publish('link.issued')
  await publish('session.refreshed')
  const ended = await publish('session.ended', { sessionId: uuidv7(), actor: 'hosted' })
  t.equal((await rows()).length, 4, 'two events wanted by default, two receivers each')
  t.equal(await h.app.outbox.runOnce(), 4)
  for (const receiver of [a, b]) {
    t.same(
      receiver.delivered().map((r) => headers(r)['webhook-id']),
      [revoked.id, ended.id],
      `${receiver.url} got both, in order`,
    )
  }
  t.equal(JSON.parse(a.received[1]?.body ?? '{}').data.actor, 'hosted')
})

t.test('WEBHOOK_EVENTS chooses the types', async (t) => {
  const receiver = await startReceiver(t)
  const { h, publish } = await rig(t, [receiver], {
    env: { WEBHOOK_EVENTS: 'session.*,email.bounced' },
  })
  await publish('user.revoked')
  const created = await publish('session.created')
  await publish('email.complained')
  const bounced = await publish('email.bounced')
  await h.app.outbox.runOnce()
  t.same(
    receiver.delivered().map((r) => JSON.parse(r.body).type),
    ['session.created', 'email.bounced'],
  )
  t.same(
    receiver.delivered().map((r) => headers(r)['webhook-id']),
    [created.id, bounced.id],
  )
})

t.test('500: retried with backoff on the clock, the same webhook-id each time', async (t) => {
  const receiver = await startReceiver(t)
  receiver.answer = { status: 500 }
  const { h, clock, publish, rows } = await rig(t, [receiver])
  const event = await publish('user.deleted')
  t.equal(await h.app.outbox.runOnce(), 1)
  let [row] = await rows()
  t.match(row, { status: 'pending', attempts: 1, lastError: 'the receiver answered 500' })
  t.equal(row?.nextAttemptAt, clock.ms + 3_750, 'first backoff: 3.75 s')

  clock.advance(3.749)
  t.equal(await h.app.outbox.runOnce(), 0, 'not a moment before')
  clock.advance(0.001)
  t.equal(await h.app.outbox.runOnce(), 1, 'retried when the backoff ends')
  ;[row] = await rows()
  t.equal(row?.nextAttemptAt, clock.ms + 7_500, 'second backoff: twice as long')

  receiver.answer = { status: 200 }
  clock.advance(7.5)
  t.equal(await h.app.outbox.runOnce(), 1)
  t.match(await rows(), [{ status: 'sent', attempts: 3, lastError: null }])
  t.equal(receiver.received.length, 3, 'three attempts')
  t.same(new Set(receiver.received.map((r) => headers(r)['webhook-id'])), new Set([event.id]))
  t.same(new Set(receiver.received.map((r) => r.body)).size, 1, 'the same body each time')
  const stamps = receiver.received.map((r) => Number(headers(r)['webhook-timestamp']))
  t.ok(stamps[0] !== undefined && stamps[2] !== undefined && stamps[2] > stamps[0], 'signed anew')
})

t.test('429 and 503 with Retry-After wait as long as the receiver asks', async (t) => {
  const receiver = await startReceiver(t)
  receiver.answer = { status: 429, headers: { 'retry-after': '120' } }
  const { h, clock, publish, rows } = await rig(t, [receiver])
  await publish('user.disabled')
  await h.app.outbox.runOnce()
  let [row] = await rows()
  t.equal(row?.nextAttemptAt, clock.ms + 120_000, '429: Retry-After 120 s beats a 3.75 s backoff')

  advanceTo(t, clock, row)
  const at = new Date(clock.ms + 300_000).toUTCString()
  receiver.answer = { status: 503, headers: { 'retry-after': at } }
  t.equal(await h.app.outbox.runOnce(), 1)
  ;[row] = await rows()
  t.equal(row?.nextAttemptAt, clock.ms + 300_000, '503: Retry-After as an HTTP-date')
  t.match(row, { status: 'pending', lastError: 'the receiver answered 503' })

  advanceTo(t, clock, row)
  receiver.answer = { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }
  t.equal(await h.app.outbox.runOnce(), 1)
  ;[row] = await rows()
  t.match(row, { status: 'pending', lastError: 'the receiver answered 302' }, 'a redirect: retry')
  t.equal(receiver.received.length, 3, 'and it was not followed')
})

t.test('down for a while, then back: every event delivered, repeats only by id', async (t) => {
  const receiver = await startReceiver(t)
  const { h, clock, publish, rows } = await rig(t, [receiver])
  // The receiver takes two events in but fails to answer 2xx (it will see them again) …
  receiver.answer = { status: 500 }
  const events = [await publish('user.created'), await publish('user.revoked')]
  t.equal(await h.app.outbox.runOnce(), 2)
  // … then goes down while three more happen.
  await receiver.stop()
  clock.advance(10)
  for (const type of ['session.ended', 'user.disabled', 'user.enabled']) {
    events.push(await publish(type))
  }
  t.equal(await h.app.outbox.runOnce(), 5, 'every row tried (the first two after their backoff)')
  t.same(
    (await rows()).map((r) => [r.status, r.lastError]),
    Array(5).fill(['pending', 'the receiver could not be reached']),
    'none lost',
  )
  clock.advance(3600)
  t.equal(await h.app.outbox.runOnce(), 5, 'retried while down: still nothing lost')
  t.equal(receiver.received.length, 2)

  await receiver.restart()
  receiver.answer = { status: 204 }
  for (let i = 0; i < 5 && (await rows()).some((r) => r.status === 'pending'); i++) {
    clock.advance(3600)
    await h.app.outbox.runOnce()
  }
  t.same(
    (await rows()).map((r) => r.status),
    ['sent', 'sent', 'sent', 'sent', 'sent'],
    'all sent once it is back',
  )
  const delivered = receiver.delivered().map((r) => headers(r)['webhook-id'])
  t.same(delivered.sort(), events.map((e) => e.id).sort(), 'each event delivered exactly once')
  // What a receiver saw more than once (the two it answered 500) came with the same id and body.
  const byId = new Map<string, Set<string>>()
  for (const r of receiver.received) {
    const id = headers(r)['webhook-id'] as string
    byId.set(id, (byId.get(id) ?? new Set()).add(r.body))
  }
  t.same([...byId.keys()].sort(), events.map((e) => e.id).sort(), 'no id but the events’')
  t.ok(
    [...byId.values()].every((bodies) => bodies.size === 1),
    'a repeated id is a repeated event',
  )
  t.equal(receiver.received.length, 7, 'two repeats, both of the events answered 500')
})

t.test('after 3 days of failures the row is failed, and listed', async (t) => {
  const receiver = await startReceiver(t)
  receiver.answer = { status: 500 }
  const { h, clock, publish, rows } = await rig(t, [receiver])
  const event = await publish('session.ended')
  const deadline = event.at + 3 * DAY_S * 1000
  await h.app.outbox.runOnce()
  let [row] = await rows()
  while (row?.status === 'pending') {
    advanceTo(t, clock, row)
    t.equal(await h.app.outbox.runOnce(), 1)
    ;[row] = await rows()
  }
  t.equal(row?.status, 'failed')
  t.match(row?.lastError, /^given up after \d+ attempts: the receiver answered 500$/)
  t.equal(receiver.received.length, row?.attempts, 'every attempt reached the receiver')
  t.ok(clock.ms <= deadline, 'the last attempt came within the 3 days')
  t.ok(clock.ms > deadline - 3600_000, 'and less than the longest backoff before their end')
  t.ok((row?.attempts ?? 0) < 150, `${row?.attempts} attempts: at most an hour apart, no storm`)
  t.same(new Set(receiver.received.map((r) => headers(r)['webhook-id'])), new Set([event.id]))

  clock.advance(DAY_S)
  t.equal(await h.app.outbox.runOnce(), 0, 'never tried again')
  const listed = await h.app.inject({
    method: 'GET',
    url: '/v1/admin/outbox?kind=webhook&status=failed',
    headers: asAdmin,
  })
  t.equal(listed.statusCode, 200)
  t.match(listed.json(), {
    messages: [
      {
        kind: 'webhook',
        to: receiver.url,
        status: 'failed',
        last_error: row?.lastError,
        attempts: row?.attempts,
        next_attempt_at: null,
      },
    ],
    counts: { failed: 1 },
  })
})

t.test('a receiver that never answers delays no email, nor another receiver', async (t) => {
  const slow = await startReceiver(t)
  const fast = await startReceiver(t)
  slow.answer = 'hang'
  const { h, publish, rows } = await rig(t, [slow, fast])
  const event = await publish('user.revoked')
  // The worker takes the webhooks; the slow receiver holds its request open.
  const first = h.app.outbox.runOnce()
  await until(() => slow.received.length === 1 && fast.delivered().length === 1, 'both POSTs')
  t.equal(headers(fast.delivered()[0] as Received)['webhook-id'], event.id, 'the fast one has it')

  // Now an email is asked for, and the worker runs again: the email goes out at once.
  const res = await postLink(h.app, { email: 'waiting@example.com', deliver: 'email' })
  t.equal(res.statusCode, 202)
  const second = h.app.outbox.runOnce()
  await until(() => h.mail.length === 1, 'the email')
  t.equal(h.mail[0]?.to, 'waiting@example.com', 'sent while the slow receiver still hangs')
  t.equal(slow.received[0]?.status, undefined, 'which it still does')

  // Stopping does not wait for the receiver's timeout: the attempt is cut short, to be retried.
  const started = Date.now()
  await h.close()
  t.ok(Date.now() - started < 5_000, 'closed without waiting for the 10 s timeout')
  await Promise.all([first, second])
  const byTo = new Map((await rows()).map((r) => [r.recipient, r]))
  t.match(byTo.get(slow.url), {
    status: 'pending',
    lastError: 'stopped before the receiver answered',
  })
  t.match(byTo.get(fast.url), { status: 'sent' })
})

t.test('no token, code, JWT, key or secret in a webhook, sent or stored', async (t) => {
  const receiver = await startReceiver(t)
  const { h, publish, store } = await rig(t, [receiver])
  const { app } = h
  // A real sign-in, to have every secret a test can hold.
  const issued = await apiLink(app, { email: 'secrets@example.com' })
  const verified = (
    await postVerify(app, { token: issued.token, ip: '203.0.113.9', user_agent: 'Firefox/140' })
  ).json()
  const session = verified.session
  t.type(session?.jwt, 'string')
  // The events such a sign-in records, as the audit trail describes them.
  await publish('user.created', { userId: issued.userId, actor: 'key:svc' })
  await publish('session.created', {
    userId: issued.userId,
    sessionId: session.session_id,
    actor: 'key:svc',
    ip: '203.0.113.9',
    userAgent: 'Firefox/140',
  })
  await publish('session.ended', {
    userId: issued.userId,
    sessionId: session.session_id,
    actor: 'key:svc',
    detail: { reason: 'logout' },
  })
  await app.outbox.runOnce()
  t.equal(receiver.delivered().length, 2, 'user.created and session.ended')
  const sent = receiver.received.map((r) => `${JSON.stringify(r.headers)}\n${r.body}`).join('\n')
  const stored = JSON.stringify(await store.listOutbox({ limit: 1000 }))
  const secrets = {
    'link token': issued.token,
    JWT: session.jwt,
    'refresh token': session.refresh_token,
    'service API key': serviceKey.key,
    'admin API key': adminKey.key,
    'link secret': linkSecret,
    'webhook secret': SECRET,
    'webhook key': SECRET.slice('whsec_'.length),
  }
  for (const [what, value] of Object.entries(secrets)) {
    t.type(value, 'string', `${what} is known`)
    t.notOk(sent.includes(value), `no ${what} in what the receiver got`)
    t.notOk(stored.includes(value), `no ${what} in the outbox`)
  }
  t.match(sent, session.session_id, 'the session id is there, as it should be')
})

t.test('rows for a receiver taken off the list, or with webhooks off, are failed', async (t) => {
  const old = await startReceiver(t)
  const current = await startReceiver(t)
  const { h, publish, rows } = await rig(t, [old, current])
  await publish('user.deleted')
  await h.close()

  const moved = await build(t, {
    dataDir: h.dataDir,
    env: { WEBHOOK_URLS: current.url, WEBHOOK_SECRET: SECRET },
  })
  t.equal(await moved.app.outbox.runOnce(), 2)
  const byTo = new Map((await rows()).map((r) => [r.recipient, r]))
  t.match(byTo.get(old.url), {
    status: 'failed',
    lastError: 'the URL is no longer in WEBHOOK_URLS',
  })
  t.match(byTo.get(current.url), { status: 'sent' })
  t.equal(old.received.length, 0, 'nothing went to the receiver taken off')
  await publish('user.deleted')
  await moved.close()

  const off = await build(t, { dataDir: h.dataDir })
  t.equal(await off.app.outbox.runOnce(), 2)
  const listed = await off.app.inject({
    method: 'GET',
    url: '/v1/admin/outbox?kind=webhook&status=failed',
    headers: asAdmin,
  })
  t.equal(listed.json().messages.length, 3)
  t.match(listed.json().messages.slice(0, 2), [
    { last_error: 'webhooks are off (WEBHOOK_URLS is not set)' },
    { last_error: 'webhooks are off (WEBHOOK_URLS is not set)' },
  ])
  t.equal(current.received.length, 1, 'nothing sent with webhooks off')
})

t.test('a worker for emails only (the CLI’s) leaves webhooks to the service', async (t) => {
  const receiver = await startReceiver(t)
  const { h, publish, rows, store, clock } = await rig(t, [receiver])
  const quiet = { info() {}, warn() {}, error() {} }
  const sent: string[] = []
  const mailer = {
    send: async (m: { to: string }) => {
      sent.push(m.to)
      return {}
    },
  }
  const deps = await buildDeps(h.config, { store, clock: clock.now, mailer }, quiet)
  t.teardown(() => deps.limits.close())
  const worker = new OutboxWorker(deps, outboxJobs(deps), quiet, { kinds: ['email'] })
  await publish('user.revoked')
  await postLink(h.app, { email: 'cli@example.com', deliver: 'email' })
  t.equal(await worker.runOnce(), 1, 'the email only')
  t.same(sent, ['cli@example.com'])
  t.match(await rows(), [{ status: 'pending', attempts: 0 }], 'the webhook waits')
  t.equal(receiver.received.length, 0)
  t.equal(await h.app.outbox.runOnce(), 1, "the service's worker sends it")
  t.equal(receiver.delivered().length, 1)
})
