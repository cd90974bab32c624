import type { Clock } from '../clock.js'
import type { MailMessage } from '../mail/mailer.js'
import type { OutboxMessage, OutboxStore } from '../store/outbox.js'
import type { OutboxBell } from './bell.js'
import type { LinkPayload } from './email-link.js'
import type { DeliveryObserver } from './observer.js'
import type { WebhookPayload, WebhookRequest } from './webhook.js'

/**
 * Every kind of job the outbox carries: what a row of that kind stores, and what its handler
 * hands over for delivery. A new kind (a webhook delivery …) is a new entry here and a handler
 * where the worker is built; the queue and the worker stay as they are.
 */
export interface JobTypes {
  /** A sign-in or access link by email. */
  email: { payload: LinkPayload; delivery: MailMessage }
  /** One event for one receiver, signed per Standard Webhooks at each attempt. */
  webhook: { payload: WebhookPayload; delivery: WebhookRequest }
}

export type JobKind = keyof JobTypes

/** Every kind, at run time; a kind missing here does not compile. */
const KINDS: Record<JobKind, true> = { email: true, webhook: true }
export const JOB_KINDS = Object.keys(KINDS) as JobKind[]

/** A claimed row of one kind, its payload typed. */
export type Job<K extends JobKind = JobKind> = OutboxMessage & {
  kind: K
  payload: JobTypes[K]['payload']
}

/** What a handler hands over for delivery, whichever kind it is for. */
export type Delivery = JobTypes[JobKind]['delivery']

/**
 * What becomes of a row: something to deliver; suppressed, by design (nobody to send it to, or
 * a user who may not sign in), with why; or dropped, because it could no longer be of use.
 */
export type Outcome<D = Delivery> = { send: D } | { suppress: string } | { drop: string }

/**
 * How the worker paces one kind of job, where it differs from the worker's own options: each
 * kind has a lane of its own (worker.ts), so a receiver that is slow or down holds up its own
 * kind only.
 */
export interface JobPolicy {
  /** Rows claimed at once; claimed rows wait for a free slot, so keep it near `concurrency`. */
  batchSize?: number
  /** Rows of this kind delivered at the same time. */
  concurrency?: number
  baseDelayMs?: number
  maxDelayMs?: number
  /** A row that failed this long after it was queued is failed for good instead of retried. */
  giveUpAfterMs?: number
}

/**
 * How one kind of job is done. `build` decides, at send time, what a row becomes; `deliver`
 * resolves once the receiver accepted it, and throws otherwise: a DeliveryFailure (mail/mailer.ts)
 * says whether to retry and when, anything else is retried.
 */
export interface JobHandler<K extends JobKind> {
  readonly policy?: JobPolicy
  build(job: Job<K>): Promise<Outcome<JobTypes[K]['delivery']>>
  /**
   * `idempotencyKey` is the same for every attempt at one row. `signal` aborts when the worker
   * stops: an attempt cut short is retried later, by this instance or another.
   */
  deliver(
    delivery: JobTypes[K]['delivery'],
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<{ providerId?: string | undefined }>
}

/** One handler for every kind: a kind without one does not compile. */
export type JobHandlers = { [K in JobKind]: JobHandler<K> }

/**
 * What the queue needs: its table, the time, the bell that wakes the worker, and whom to tell
 * what became of each row.
 */
export interface OutboxDeps {
  readonly store: OutboxStore
  readonly clock: Clock
  readonly outboxBell: OutboxBell
  readonly observer: DeliveryObserver
}
