import { v7 as uuidv7 } from 'uuid'
import type { NewOutboxMessage, OutboxMessage, OutboxStatus } from './outbox.js'
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

/** Every status at zero, for countOutbox to fill in. */
export const zeroCounts = (): Record<OutboxStatus, number> => ({
  pending: 0,
  sent: 0,
  failed: 0,
  suppressed: 0,
})
