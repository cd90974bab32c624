import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import t, { type Test } from 'tap'
import { asAdmin, asService, build, type TestApp } from '../helpers/app.js'
import { ManualClock } from '../helpers/clock.js'
import { apiLink, postVerify } from '../helpers/http.js'
import { until } from '../helpers/poll.js'
import { type Received, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'

// The events the store records reach webhook receivers: the app opens its store with the
// webhook announcer, so every event gets its rows in its own transaction (see
// test/store/announced-events.test.ts for both stores and the rollbacks), and the worker sends
// them, signed, to a real local receiver.

const SECRET = `whsec_${randomBytes(32).toString('base64')}`
const headers = (r: Received) => r.headers as Record<string, string>

async function app(
  t: Test,
  receiver: WebhookReceiver,
  options: { autoStart?: boolean } = {},
): Promise<TestApp> {
  return build(t, {
    // The real time: Webhook.verify refuses a timestamp more than 5 minutes from its own clock.
    clock: new ManualClock(Date.now),
    env: { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_EVENTS: '*' },
    overrides: { outbox: { autoStart: options.autoStart ?? false } },
  })
}

/** Signs in with a fresh login link; the verify answer's body. */
async function signIn(h: TestApp, email: string) {
  const { token } = await apiLink(h.app, { email })
  const res = await postVerify(h.app, { token })
  if (res.statusCode !== 200) throw new Error(`verify: ${res.statusCode} ${res.body}`)
  return res.json() as {
    user: { id: string }
    session: { refresh_token: string; session_id: string }
  }
}

t.test('a sign-in, a revoke and a logout arrive as signed webhooks', async (t) => {
  const receiver = await startReceiver(t)
  const h = await app(t, receiver)
  const first = await signIn(h, 'ada@example.com')
  const userId = first.user.id
  const revoked = await h.app.inject({
    method: 'POST',
    url: `/v1/admin/users/${userId}/revoke`,
    headers: asAdmin,
    payload: {},
  })
  t.equal(revoked.statusCode, 200, 'revoked')
  const second = await signIn(h, 'ada@example.com')
  const ended = await h.app.inject({
    method: 'POST',
    url: '/v1/sessions/end',
    headers: asService,
    payload: { refresh_token: second.session.refresh_token },
  })
  t.equal(ended.statusCode, 204, 'logged out')

  while ((await h.app.outbox.runOnce()) > 0) {}
  const audit = await h.app.inject({
    method: 'GET',
    url: `/v1/admin/audit?user_id=${userId}&limit=100`,
    headers: asAdmin,
  })
  const events = (audit.json().events as { id: string; type: string }[]).reverse()
  const delivered = receiver.delivered()
  t.same(
    delivered.map((r) => headers(r)['webhook-id']),
    events.map((e) => e.id),
    'one webhook per audit event of the user, in order, its id the webhook-id',
  )
  const bodies = delivered.map(
    (r) =>
      new Webhook(SECRET).verify(r.body, headers(r)) as {
        type: string
        data: { session_id: string | null; detail: Record<string, unknown> }
      },
  )
  t.same(
    bodies.map((b) => b.type),
    [
      'user.created',
      'link.issued',
      'link.verified',
      'session.created',
      'user.revoked',
      'session.ended',
      'link.issued',
      'link.verified',
      'session.created',
      'session.ended',
    ],
    'every signature verifies; the sign-in, the revoke and the logout are all there',
  )
  t.match(bodies[5]?.data, { session_id: first.session.session_id, detail: { reason: 'revoked' } })
  t.match(bodies[9]?.data, { session_id: second.session.session_id, detail: { reason: 'logout' } })
})

t.test('a receiver that never answers does not slow a sign-in', async (t) => {
  const receiver = await startReceiver(t)
  const h = await app(t, receiver, { autoStart: true })
  const timed = async (email: string) => {
    const started = performance.now()
    await signIn(h, email)
    return performance.now() - started
  }
  // Before: the receiver answers; the worker (running, woken by the bell) delivers.
  const before: number[] = []
  for (let i = 0; i < 10; i++) before.push(await timed(`before${i}@example.com`))
  await until(() => receiver.delivered().length >= 10 * 3, 'the first webhooks delivered')

  receiver.answer = 'hang'
  const held = receiver.received.length
  await timed('first-held@example.com')
  await until(() => receiver.received.length > held, 'the worker is held by the receiver')
  const during: number[] = []
  for (let i = 0; i < 10; i++) during.push(await timed(`during${i}@example.com`))
  const hanging = receiver.received.slice(held)
  t.ok(
    hanging.length > 0 && hanging.every((r) => r.status === undefined),
    'every sign-in answered while the receiver still held its requests',
  )
  const slowest = (ms: number[]) => Math.max(...ms)
  t.comment(
    `verify: slowest ${slowest(before).toFixed(1)} ms before, ${slowest(during).toFixed(1)} ms while hanging`,
  )
  t.ok(slowest(during) < 5_000, 'no sign-in waited for the webhook timeout (10 s)')
  // Nor does a shutdown: the worker cuts its sends short, the rows still due included.
  const closing = performance.now()
  await h.close()
  t.ok(performance.now() - closing < 5_000, 'the app closed without waiting for the receiver')
})
