import type { Config } from '../config/index.js'
import type { OutboxDeps } from '../outbox/jobs.js'
import type { WebhookPayload } from '../outbox/webhook.js'
import type { EventAnnouncer } from '../store/announce.js'
import type { NewOutboxMessage } from '../store/outbox.js'

/**
 * What a webhook needs of an audit event: the event as recorded (DESIGN, "Audit, events and the
 * revocation feed"), times in milliseconds. Absent and null fields are alike.
 */
export interface WebhookEvent {
  /** UUIDv7: the `webhook-id` of its deliveries. */
  id: string
  at: number
  type: string
  userId?: string | null | undefined
  sessionId?: string | null | undefined
  /** `key:<api key name>`, `hosted`, `cli` or `system`. */
  actor: string
  ip?: string | null | undefined
  userAgent?: string | null | undefined
  detail?: Record<string, unknown> | null | undefined
}

export type WebhookSettings = Pick<Config['webhooks'], 'urls' | 'events'>

/** An outbox row of kind `webhook`, as the store's enqueue (or an INSERT of its values) takes it. */
export type NewWebhookRow = NewOutboxMessage & { kind: 'webhook'; payload: WebhookPayload }

/**
 * Whether `type` is one WEBHOOK_EVENTS lists: exactly, or under a `prefix.*` (`user.*` is
 * `user.revoked` and `user.deleted`, not `users.x` nor `user` itself), or `*`.
 */
export function wantsEvent(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) =>
    pattern === '*'
      ? true
      : pattern.endsWith('.*')
        ? type.startsWith(pattern.slice(0, -1))
        : pattern === type,
  )
}

/**
 * The outbox rows that announce one event: one per receiver, none when the type is not wanted
 * or no receiver is configured. Pure, so the code that records an event can insert these rows in
 * the same transaction (DESIGN security 19: an event and its webhooks commit together or not at
 * all), then ring the outbox bell once it has committed.
 *
 * The rows belong to no user (`userId` null) although most events are about one: outbox rows go
 * with their user (ON DELETE CASCADE), and a webhook must outlive the user it announces,
 * `user.deleted` above all. The user's id is in the payload.
 *
 * `recipient` (what GET /v1/admin/outbox shows as `to`) is the URL without its query, where a
 * receiver may keep a credential of its own; the payload has the whole URL.
 */
export function webhookJobs(event: WebhookEvent, settings: WebhookSettings): NewWebhookRow[] {
  if (settings.urls.length === 0 || !wantsEvent(settings.events, event.type)) return []
  const shared: Omit<WebhookPayload, 'url'> = {
    event_id: event.id,
    type: event.type,
    timestamp: new Date(event.at).toISOString(),
    data: webhookData(event),
  }
  return settings.urls.map((url) => ({
    kind: 'webhook',
    userId: null,
    recipient: shown(url),
    payload: { ...shared, url },
    now: event.at,
  }))
}

/**
 * What the store is opened with (see EventAnnouncer): each event it records gets its webhook rows
 * in the same transaction, and once they have committed the worker's bell rings.
 */
export function webhookAnnouncer(
  settings: WebhookSettings,
  bell: Pick<OutboxDeps['outboxBell'], 'ring'>,
): EventAnnouncer {
  return {
    rowsFor: (event) => webhookJobs(event, settings),
    queued: () => bell.ring(),
  }
}

/**
 * Queues the webhooks of an event already recorded, in one statement, and rings the worker's
 * bell; resolves to how many rows were queued. For an event recorded outside a transaction of
 * the store's (and for tests): where the event is written in a transaction, its rows go into that
 * transaction instead (webhookJobs, then the store's OUTBOX_INSERT_JSON with outboxRowsJson), so
 * that an event and its webhooks exist together or not at all.
 */
export async function queueWebhooks(
  deps: Pick<OutboxDeps, 'store' | 'clock' | 'outboxBell'>,
  settings: WebhookSettings,
  event: WebhookEvent,
): Promise<number> {
  const rows = webhookJobs(event, settings)
  if (rows.length === 0) return 0
  await deps.store.enqueueAll(rows)
  deps.outboxBell.ring()
  return rows.length
}

/**
 * The event as a receiver reads it: every field of the audit record but its id and time (those
 * are the `webhook-id` header and the body's `timestamp`) and its type (the body's `type`), in
 * the API's snake_case, null when absent. An event never holds a token, code, JWT or key
 * (DESIGN security 11), so nothing here needs to be taken out.
 */
export function webhookData(event: WebhookEvent): Record<string, unknown> {
  return {
    user_id: event.userId ?? null,
    session_id: event.sessionId ?? null,
    actor: event.actor,
    ip: event.ip ?? null,
    user_agent: event.userAgent ?? null,
    detail: event.detail ?? {},
  }
}

function shown(url: string): string {
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}
