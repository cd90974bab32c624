import type { AuditContext } from './audit.js'

/**
 * What the mail provider reported about an email it accepted, weakest first: a delay, a soft
 * (transient) bounce, delivery, a hard bounce, a complaint. A row keeps the strongest report it
 * got, so callbacks arriving out of order (a delay after the delivery) never weaken it, while a
 * hard bounce or a complaint after a delivery (both happen) is recorded.
 */
export const DELIVERY_OUTCOMES = [
  'delayed',
  'soft_bounced',
  'delivered',
  'bounced',
  'complained',
] as const

export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number]

export type OutboxStatus = 'pending' | 'sent' | 'failed' | 'suppressed'

/**
 * One queued job: `kind` names what it is (an email with a sign-in link …) and so which handler
 * builds and delivers it; `payload` is what that handler needs (for a sign-in link: the token
 * fields and context, not the token), stored as JSON. Times are milliseconds.
 */
export interface OutboxMessage {
  id: string
  kind: string
  userId: string | null
  recipient: string
  payload: unknown
  status: OutboxStatus
  /**
   * Why a message was suppressed (never sent by design): unknown_address, user_disabled. Decided
   * by the worker at send time, so every request's row is handled alike (see auth/link-email.ts).
   */
  reason: string | null
  attempts: number
  nextAttemptAt: number
  lastError: string | null
  createdAt: number
  sentAt: number | null
  providerId: string | null
  /**
   * What the mail provider reported after accepting the email (deliveries.ts), and when; null
   * until it reports. The status stays ours: a bounced email was still sent.
   */
  delivery: DeliveryOutcome | null
  deliveryAt: number | null
}

/** A job to queue: pending, due at once. What becomes of it is the worker's to decide. */
export interface NewOutboxMessage {
  kind: string
  userId: string | null
  recipient: string
  payload: unknown
  now: number
}

export interface OutboxQuery {
  status?: OutboxStatus | undefined
  kind?: string | undefined
  userId?: string | undefined
  /**
   * Only messages created before this id (UUIDv7 ids sort by time): the next page. A cursor that
   * is not a message id is the caller's mistake (TypeError), never an empty or a wrong page.
   */
  before?: string | undefined
  limit: number
}

/** The pending messages of one kind: how many, and when the oldest of them was queued. */
export interface OutboxBacklog {
  kind: string
  pending: number
  oldestCreatedAt: number
}

/**
 * The outbox's persistence. Claiming is one atomic statement that also pushes the row's next
 * attempt past a lease, so two workers (or two processes) never hold one row at once, and a row
 * whose worker died becomes due again when the lease runs out.
 */
export interface OutboxStore {
  /** An email (kind `email`) is recorded as email.queued in the same transaction. */
  enqueue(message: NewOutboxMessage, audit?: AuditContext): Promise<OutboxMessage>
  /**
   * Several rows in one statement, all or none, in the order given (the webhooks of one event).
   * No audit event: these are not emails. The statement is exported by each store
   * (OUTBOX_INSERT_JSON) for a caller that writes these rows inside a transaction of its own,
   * with the values of `outboxRowsJson` (rows.ts).
   */
  enqueueAll(messages: readonly NewOutboxMessage[]): Promise<OutboxMessage[]>
  /**
   * Due pending rows, oldest due first: attempts + 1 and next_attempt_at = now + leaseMs. With
   * `kind`, rows of that kind only (the worker's lane for it).
   */
  claimDue(now: number, leaseMs: number, limit: number, kind?: string): Promise<OutboxMessage[]>
  /**
   * The outcomes below land only on a pending row, and each writes its event for an email in
   * the same transaction (email.sent, email.failed, email.suppressed; the worker's, so the
   * system's unless told). A retry is no outcome yet and records nothing.
   */
  markSent(id: string, now: number, providerId: string | null, audit?: AuditContext): Promise<void>
  markRetry(id: string, nextAttemptAt: number, error: string): Promise<void>
  markFailed(id: string, error: string, now: number, audit?: AuditContext): Promise<void>
  /** A pending row that is not to be sent, by design: status suppressed, with why. */
  markSuppressed(id: string, reason: string, now: number, audit?: AuditContext): Promise<void>
  listOutbox(query: OutboxQuery): Promise<OutboxMessage[]>
  countOutbox(): Promise<Record<OutboxStatus, number>>
  /**
   * The pending messages per kind (only kinds with some), for the metrics scrape: one aggregate
   * over the pending rows, which the due index covers, so a scrape stays cheap however large
   * the finished history grows.
   */
  outboxBacklog(): Promise<OutboxBacklog[]>
  /** Deletes messages that are no longer pending and were created before `createdBefore`. */
  pruneOutbox(createdBefore: number): Promise<number>
}
