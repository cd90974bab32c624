import type { AuditEvent } from './audit.js'
import type { NewOutboxMessage } from './outbox.js'

/**
 * Who is told of events as they are recorded (the webhooks: see events/webhooks.ts). The store
 * inserts the outbox rows that announce an event in the transaction that records it, so an event
 * and its announcements commit together or not at all, and calls `queued` once such rows have
 * committed (the worker's bell). Given to the store when it is opened: the store knows nothing of
 * receivers, or of which events they want.
 */
export interface EventAnnouncer {
  /**
   * The rows for one event; pure, since it runs inside the store's transaction. On PostgreSQL
   * the event is passed before its statement runs (its id, time, type and context, with no user,
   * session or detail yet): the rows are then written only if the event is, with what the
   * statement found filled in from the event as written.
   */
  rowsFor(event: AuditEvent): NewOutboxMessage[]
  queued(): void
}

/** Nobody is told: no rows for any event. */
export const SILENT: EventAnnouncer = { rowsFor: () => [], queued: () => {} }
