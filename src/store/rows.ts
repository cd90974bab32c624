import { v7 as uuidv7 } from 'uuid'
import type { AuditContext, AuditEvent, AuditType, Revocation, RevocationReason } from './audit.js'
import type { DeliveryOutcome, NewOutboxMessage, OutboxMessage, OutboxStatus } from './outbox.js'
import type { EndReason, NewSession, Session, SessionWithUser } from './sessions.js'
import type { User, UserStatus } from './users.js'

/**
 * The tables' rows as both stores read them back (column names as in the migrations), and what
 * the domain makes of them. Times and counters arrive as numbers: each store converts its
 * driver's 64-bit values before they get here.
 */
export interface UserRow {
  id: string
  email: string
  status: UserStatus
  rev: number
  seq: number
  created_at: number
  last_login_at: number | null
}

export const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  status: row.status,
  rev: row.rev,
  seq: row.seq,
  createdAt: row.created_at,
  lastLoginAt: row.last_login_at,
})

/** An outbox row; `payload` is as the driver gives it (JSON text in SQLite, parsed in PostgreSQL). */
export interface OutboxRow<Payload = unknown> {
  id: string
  kind: string
  user_id: string | null
  recipient: string
  payload: Payload
  status: OutboxStatus
  reason: string | null
  attempts: number
  next_attempt_at: number
  last_error: string | null
  created_at: number
  sent_at: number | null
  provider_id: string | null
  delivery: DeliveryOutcome | null
  delivery_at: number | null
}

export const toMessage = (row: OutboxRow): OutboxMessage => ({
  id: row.id,
  kind: row.kind,
  userId: row.user_id,
  recipient: row.recipient,
  payload: row.payload,
  status: row.status,
  reason: row.reason,
  attempts: row.attempts,
  nextAttemptAt: row.next_attempt_at,
  lastError: row.last_error,
  createdAt: row.created_at,
  sentAt: row.sent_at,
  providerId: row.provider_id,
  delivery: row.delivery ?? null,
  deliveryAt: row.delivery_at ?? null,
})

/**
 * A new outbox row's values, in the column order both stores' INSERT lists: a fresh UUIDv7, the
 * payload as JSON text, pending and due at once.
 */
export const newOutboxValues = (message: NewOutboxMessage): unknown[] => [
  uuidv7(),
  message.kind,
  message.userId,
  message.recipient,
  JSON.stringify(message.payload),
  message.now,
  message.now,
]

/**
 * New outbox rows as the one JSON parameter of a store's OUTBOX_INSERT_JSON: each with a fresh
 * UUIDv7 (in the order given), pending and due at once. `[]` inserts nothing.
 */
export const outboxRowsJson = (messages: readonly NewOutboxMessage[]): string =>
  JSON.stringify(
    messages.map((m) => ({
      id: uuidv7(),
      kind: m.kind,
      user_id: m.userId,
      recipient: m.recipient,
      payload: m.payload,
      at: m.now,
    })),
  )

/** Every status at zero, for countOutbox to fill in. */
export const zeroCounts = (): Record<OutboxStatus, number> => ({
  pending: 0,
  sent: 0,
  failed: 0,
  suppressed: 0,
})

/** A sessions row, as both stores read it back. */
export interface SessionRow {
  id: string
  user_id: string
  client: string
  created_at: number
  last_refreshed_at: number | null
  expires_at: number
  refresh_seq: number
  ended_at: number | null
  end_reason: EndReason | null
  ip: string | null
  user_agent: string | null
}

export const toSession = (row: SessionRow): Session => ({
  id: row.id,
  userId: row.user_id,
  client: row.client,
  createdAt: row.created_at,
  lastRefreshedAt: row.last_refreshed_at,
  expiresAt: row.expires_at,
  refreshSeq: row.refresh_seq,
  endedAt: row.ended_at,
  endReason: row.end_reason,
  ip: row.ip,
  userAgent: row.user_agent,
})

/**
 * A session joined with its user in one row, `s` and `u` being the two (tables or CTEs): the
 * session's columns as they are, the user's prefixed. The same text in both dialects.
 */
export const SESSION_WITH_USER = `s.*, u.email AS user_email, u.status AS user_status,
  u.rev AS user_rev, u.seq AS user_seq, u.created_at AS user_created_at,
  u.last_login_at AS user_last_login_at`

export interface SessionUserRow extends SessionRow {
  user_email: string
  user_status: UserStatus
  user_rev: number
  user_seq: number
  user_created_at: number
  user_last_login_at: number | null
}

export const toSessionWithUser = (row: SessionUserRow): SessionWithUser => ({
  session: toSession(row),
  user: {
    id: row.user_id,
    email: row.user_email,
    status: row.user_status,
    rev: row.user_rev,
    seq: row.user_seq,
    createdAt: row.user_created_at,
    lastLoginAt: row.user_last_login_at,
  },
})

/**
 * A new session's own values, in the column order both stores' INSERT lists after the user and
 * the time: a fresh UUIDv7, the client, the absolute expiry, ip and user agent.
 */
export const newSessionValues = (session: NewSession): unknown[] => [
  uuidv7(),
  session.client,
  session.expiresAt,
  session.ip,
  session.userAgent,
]

/** An audit_events row; `detail` is as the driver gives it (JSON text in SQLite, parsed in PostgreSQL). */
export interface AuditRow<Detail = Record<string, unknown>> {
  id: string
  at: number
  type: AuditType
  user_id: string | null
  session_id: string | null
  actor: string
  ip: string | null
  user_agent: string | null
  detail: Detail
}

export const toEvent = (row: AuditRow): AuditEvent => ({
  id: row.id,
  at: row.at,
  type: row.type,
  userId: row.user_id,
  sessionId: row.session_id,
  actor: row.actor,
  ip: row.ip,
  userAgent: row.user_agent,
  detail: row.detail,
})

/** The columns an event is inserted with, in the order eventValues gives them. */
export const EVENT_COLUMNS = 'id, at, type, user_id, session_id, actor, ip, user_agent, detail'

/**
 * A new event's values, in EVENT_COLUMNS order: a fresh UUIDv7, the time, what happened and to
 * whom, the context (checked by compose.ts), the detail as JSON text.
 */
export const eventValues = (
  now: number,
  type: AuditType,
  userId: string | null,
  sessionId: string | null,
  context: AuditContext,
  detail: Record<string, unknown> = {},
): unknown[] => [
  uuidv7(),
  now,
  type,
  userId,
  sessionId,
  context.actor,
  context.ip ?? null,
  context.userAgent ?? null,
  JSON.stringify(detail),
]

/** A feed entry as both stores read it: the event's columns that the feed needs. */
export interface FeedRow<Detail = Record<string, unknown>> {
  type: AuditType
  user_id: string
  session_id: string | null
  at: number
  detail: Detail
}

/**
 * A feed entry. A delete does not move the counter, but every token of the user is dead: the
 * entry names the next rev, so "a JWT whose rev is lower is revoked" holds for it too.
 */
export const toRevocation = (row: FeedRow): Revocation => ({
  userId: row.user_id,
  rev: Number(row.detail.rev) + (row.detail.reason === 'deleted' ? 1 : 0),
  sessionId: row.session_id,
  reason: row.detail.reason as RevocationReason,
  at: row.at,
})
