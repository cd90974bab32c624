import { Webhook } from 'standardwebhooks'
import type { Clock } from '../clock.js'
import { DeliveryFailure } from '../mail/mailer.js'
import { parseRetryAfter } from '../mail/retry-after.js'
import type { Job, JobHandler, JobPolicy, Outcome } from './jobs.js'
import type { WebhookRequest } from './webhook.js'

const DAY_MS = 24 * 3600_000

/**
 * Webhooks are retried for 3 days after the event (the Standard Webhooks recommendation), a
 * receiver that is down for a weekend included, at most an hour apart once it has been down a
 * while. Eight at a time: a receiver that hangs holds eight slots for a timeout at most, and
 * never an email (the worker gives each kind its own lane).
 */
export const WEBHOOK_POLICY: Required<Omit<JobPolicy, 'giveUpAfterMs'>> & JobPolicy = {
  batchSize: 8,
  concurrency: 8,
  baseDelayMs: 5_000,
  maxDelayMs: 3600_000,
  giveUpAfterMs: 3 * DAY_MS,
}

export interface WebhookJobOptions {
  /** `whsec_…`; undefined when webhooks are off. */
  secret: string | undefined
  /** The receivers configured now: a row for a URL no longer listed is not sent. */
  urls: readonly string[]
  clock: Clock
  /** Upper bound for one attempt, from connecting to the answer's status. */
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 10_000

/**
 * After a receiver let an attempt time out, its other deliveries fail at once for this long,
 * without a request: a receiver that hangs would otherwise hold every slot of the lane for a
 * timeout after another, and starve the receivers that answer. Those rows back off as if tried.
 */
const COOL_DOWN_MS = 30_000

/** The outbox's `webhook` jobs: signed at send time, POSTed to their receiver. */
export function webhookJob(options: WebhookJobOptions): JobHandler<'webhook'> {
  const { secret, urls, clock, timeoutMs = DEFAULT_TIMEOUT_MS } = options
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError('webhook timeoutMs must be a positive integer')
  }
  const signer = secret === undefined ? undefined : new Webhook(secret)
  /** Receivers that timed out lately, and until when they are left alone. */
  const resting = new Map<string, number>()
  return {
    policy: WEBHOOK_POLICY,
    build: async (job) => signWebhook(job, signer, urls, clock),
    async deliver(request, _idempotencyKey, signal) {
      const until = resting.get(request.url)
      if (until !== undefined && clock() < until) {
        throw new DeliveryFailure('not tried: the receiver timed out a moment ago', {
          permanent: false,
        })
      }
      try {
        const delivered = await postWebhook(request, timeoutMs, clock, signal)
        resting.delete(request.url)
        return delivered
      } catch (error) {
        if (error instanceof TimedOut) resting.set(request.url, clock() + COOL_DOWN_MS)
        else resting.delete(request.url)
        throw error
      }
    },
  }
}

/** No answer within the timeout. */
class TimedOut extends DeliveryFailure {}

/**
 * The signed request for a row, or why it is not sent. Signed now rather than when queued: the
 * `webhook-timestamp` is the attempt's, so a receiver's replay window (5 minutes in the
 * standardwebhooks libraries) holds for a retry days later, and the key is never stored. The
 * `webhook-id` is the event's, the same on every attempt and for every receiver.
 */
async function signWebhook(
  job: Job<'webhook'>,
  signer: Webhook | undefined,
  urls: readonly string[],
  clock: Clock,
): Promise<Outcome<WebhookRequest>> {
  const { event_id, type, timestamp, data, url } = job.payload
  // An operator who turned webhooks off, or took a receiver off the list, wants nothing more
  // sent there: such rows are failed with why, visible in the outbox, rather than sent.
  if (signer === undefined) return { drop: 'webhooks are off (WEBHOOK_URLS is not set)' }
  if (!urls.includes(url)) return { drop: 'the URL is no longer in WEBHOOK_URLS' }
  const body = JSON.stringify({ type, timestamp, data })
  const now = new Date(clock())
  return {
    send: {
      url,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'latchkey-webhooks',
        'webhook-id': event_id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signer.sign(event_id, now, body),
      },
    },
  }
}

/**
 * One attempt. Any 2xx is delivered; anything else (another status, a redirect, which is not
 * followed so a signed event goes nowhere else, a refused connection, no answer within the
 * timeout) is retried, after Retry-After when a 429 or 503 gives one. Only the status goes into
 * the error: it lands in logs and in the outbox row, and the receiver's body is not ours to keep.
 */
async function postWebhook(
  request: WebhookRequest,
  timeoutMs: number,
  clock: Clock,
  stop: AbortSignal,
): Promise<Record<string, never>> {
  const timeout = AbortSignal.timeout(timeoutMs)
  let response: Response
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.any([timeout, stop]),
    })
  } catch {
    if (timeout.aborted) {
      throw new TimedOut(`the receiver did not answer within ${timeoutMs} ms`, { permanent: false })
    }
    const why = stop.aborted
      ? 'stopped before the receiver answered'
      : 'the receiver could not be reached'
    throw new DeliveryFailure(why, { permanent: false })
  }
  // The answer's body is not read: nothing in it changes what happens, and a receiver that
  // streams one forever must not hold the attempt open.
  await response.body?.cancel().catch(() => undefined)
  if (response.status >= 200 && response.status < 300) return {}
  const { status } = response
  const retryAfterSeconds =
    status === 429 || status === 503
      ? parseRetryAfter(response.headers.get('retry-after') ?? undefined, clock())
      : undefined
  throw new DeliveryFailure(`the receiver answered ${status}`, {
    permanent: false,
    status,
    retryAfterSeconds,
  })
}
