import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { DeliveryFailure } from '../../src/mail/mailer.js'
import type { Job } from '../../src/outbox/jobs.js'
import type { WebhookRequest } from '../../src/outbox/webhook.js'
import { webhookJob } from '../../src/outbox/webhook-job.js'
import { startReceiver } from '../helpers/webhook-receiver.js'

// The `webhook` job handler on its own: what it builds from a row, and what one attempt makes of
// each kind of answer. The worker's part (lanes, backoff, giving up) is in
// test/integration/webhooks.test.ts.

const SECRET = `whsec_${randomBytes(32).toString('base64')}`
const NOW = Date.now()
const clock = () => NOW
const never = new AbortController().signal

function job(url: string): Job<'webhook'> {
  return {
    id: '01900000-0000-7000-8000-000000000001',
    kind: 'webhook',
    userId: null,
    recipient: url,
    payload: {
      event_id: '01900000-0000-7000-8000-0000000000e1',
      type: 'user.revoked',
      timestamp: new Date(NOW - 1000).toISOString(),
      data: { user_id: null, actor: 'cli', detail: {} },
      url,
    },
    status: 'pending',
    reason: null,
    attempts: 1,
    nextAttemptAt: NOW,
    lastError: null,
    createdAt: NOW - 1000,
    sentAt: null,
    providerId: null,
    delivery: null,
    deliveryAt: null,
  }
}

async function built(url: string, urls = [url]): Promise<WebhookRequest> {
  const outcome = await webhookJob({ secret: SECRET, urls, clock }).build(job(url))
  if (!('send' in outcome)) throw new Error(`not sent: ${JSON.stringify(outcome)}`)
  return outcome.send
}

/** What one attempt throws, or undefined when it was delivered. */
async function attempt(request: WebhookRequest, timeoutMs = 5_000, signal = never) {
  const handler = webhookJob({ secret: SECRET, urls: [request.url], clock, timeoutMs })
  try {
    await handler.deliver(request, 'unused', signal)
    return undefined
  } catch (error) {
    if (error instanceof DeliveryFailure) return { message: error.message, ...error.options }
    throw error
  }
}

t.test('build signs the row now, with the event id as webhook-id', async (t) => {
  const url = 'https://hooks.example/in'
  const request = await built(url)
  t.equal(request.url, url)
  t.same(JSON.parse(request.body), {
    type: 'user.revoked',
    timestamp: new Date(NOW - 1000).toISOString(),
    data: { user_id: null, actor: 'cli', detail: {} },
  })
  t.equal(request.headers['webhook-id'], '01900000-0000-7000-8000-0000000000e1')
  t.equal(request.headers['webhook-timestamp'], String(Math.floor(NOW / 1000)))
  t.same(new Webhook(SECRET).verify(request.body, request.headers), JSON.parse(request.body))
})

t.test('build drops a row webhooks are no longer configured for', async (t) => {
  const url = 'https://hooks.example/in'
  t.same(await webhookJob({ secret: undefined, urls: [], clock }).build(job(url)), {
    drop: 'webhooks are off (WEBHOOK_URLS is not set)',
  })
  t.same(
    await webhookJob({ secret: SECRET, urls: ['https://other.example/'], clock }).build(job(url)),
    {
      drop: 'the URL is no longer in WEBHOOK_URLS',
    },
  )
  t.throws(() => webhookJob({ secret: SECRET, urls: [], clock, timeoutMs: 0 }), TypeError)
})

t.test('any 2xx is delivered; anything else is a retry', async (t) => {
  const receiver = await startReceiver(t)
  const request = await built(receiver.url)
  for (const status of [200, 201, 202, 204, 299]) {
    receiver.answer = { status }
    t.equal(await attempt(request), undefined, `${status}: delivered`)
  }
  for (const status of [301, 400, 401, 404, 410, 500, 502]) {
    receiver.answer = { status, headers: { 'retry-after': '60' } }
    t.same(
      await attempt(request),
      {
        message: `the receiver answered ${status}`,
        permanent: false,
        status,
        retryAfterSeconds: undefined,
      },
      `${status}: retried, its Retry-After ignored`,
    )
  }
  receiver.answer = { status: 429, headers: { 'retry-after': '60' } }
  t.match(await attempt(request), { status: 429, retryAfterSeconds: 60, permanent: false })
})

t.test('no answer within the timeout, refused, or stopped: a retry', async (t) => {
  const receiver = await startReceiver(t)
  const request = await built(receiver.url)
  receiver.answer = 'hang'
  t.same(await attempt(request, 100), {
    message: 'the receiver did not answer within 100 ms',
    permanent: false,
  })
  const stop = new AbortController()
  const stopped = attempt(request, 5_000, stop.signal)
  stop.abort()
  t.same(await stopped, { message: 'stopped before the receiver answered', permanent: false })
  await receiver.stop()
  t.same(await attempt(request), { message: 'the receiver could not be reached', permanent: false })
})

t.test('a receiver that timed out is left alone for 30 s; the others are not', async (t) => {
  const slow = await startReceiver(t)
  const fast = await startReceiver(t)
  slow.answer = 'hang'
  let now = NOW
  const handler = webhookJob({
    secret: SECRET,
    urls: [slow.url, fast.url],
    clock: () => now,
    timeoutMs: 100,
  })
  const outcome = async (url: string) => {
    const request = await built(url)
    try {
      await handler.deliver(request, 'unused', never)
      return 'delivered'
    } catch (error) {
      return (error as Error).message
    }
  }
  t.equal(await outcome(slow.url), 'the receiver did not answer within 100 ms')
  t.equal(await outcome(slow.url), 'not tried: the receiver timed out a moment ago')
  t.equal(await outcome(fast.url), 'delivered', 'another receiver is tried as usual')
  now += 29_999
  t.equal(await outcome(slow.url), 'not tried: the receiver timed out a moment ago')
  t.equal(slow.received.length, 1, 'one request only')
  now += 1
  slow.answer = { status: 204 }
  t.equal(await outcome(slow.url), 'delivered', 'tried again after 30 s')
  t.equal(await outcome(slow.url), 'delivered')
})
