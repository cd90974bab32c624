import type { AuditContext } from './audit.js'
import type { DeliveryOutcome, OutboxMessage } from './outbox.js'
import type { Suppression } from './suppressions.js'

/** The audit event a report writes, if any (a delay writes none). */
export type DeliveryEventType = 'email.delivered' | 'email.bounced' | 'email.complained'

/** One provider callback about one email, as the store records it. */
export interface DeliveryReport {
  /**
   * The provider's id of the callback (Svix's `svix-id`), the same on every retry of it: a
   * report whose id was recorded before changes nothing.
   */
  eventId: string
  /** The outbox row it is about. */
  messageId: string
  outcome: DeliveryOutcome
  /** Written with the row's user and `message_id`; never the email's content. */
  event?: { type: DeliveryEventType; detail: Record<string, unknown> } | undefined
  /** An inbox no email is to go to any more (a hard bounce, a complaint). */
  suppression?: Suppression | undefined
}

/**
 * The mail provider's feedback. `recordDelivery` is one transaction: the callback's id, the
 * row's delivery, the event and the suppression commit together or not at all (requirement 19).
 */
export interface DeliveryStore {
  /** The email the provider knows by `providerId` (what markSent recorded), if any. */
  findByProviderId(providerId: string): Promise<OutboxMessage | undefined>
  /** False, and nothing changed, when a report with the same eventId was recorded before. */
  recordDelivery(report: DeliveryReport, now: number, audit?: AuditContext): Promise<boolean>
  /** Forgets the callback ids received before `before`; resolves to how many went. */
  pruneProviderEvents(before: number): Promise<number>
}
