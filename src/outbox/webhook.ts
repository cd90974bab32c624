/**
 * What the outbox keeps of one event for one receiver (job kind `webhook`). Nothing secret: an
 * event never holds a token, code, JWT or key (DESIGN security 11), and the signing key is
 * applied at send time, never stored.
 */
export interface WebhookPayload {
  /** The event's id: the `webhook-id` of every attempt, so a receiver drops duplicates by it. */
  event_id: string
  type: string
  /** When the event happened, ISO 8601. */
  timestamp: string
  /** The event as receivers see it (events/webhooks.ts). */
  data: Record<string, unknown>
  url: string
}

/** One signed POST, ready to go (headers per the Standard Webhooks specification). */
export interface WebhookRequest {
  url: string
  headers: Record<string, string>
  body: string
}
