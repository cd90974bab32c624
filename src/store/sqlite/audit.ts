import type { EventAnnouncer } from '../announce.js'
import type { AuditContext, AuditEvent, AuditStore, AuditType } from '../audit.js'
import { FEED_TYPES } from '../audit.js'
import { badCursor, decodeFeedCursor, encodeFeedCursor } from '../checks.js'
import { listEventsSql } from '../listing.js'
import {
  type AuditRow,
  EVENT_COLUMNS,
  eventValues,
  type FeedRow,
  outboxRowsJson,
  toEvent,
  toRevocation,
} from '../rows.js'
import type { EndReason } from '../sessions.js'
import type { UsedToken } from '../users.js'
import type { Db, Guard } from './connection.js'
import { OUTBOX_INSERT_JSON } from './outbox-insert.js'

/**
 * The detail of a link.verified event: whether the token was one-time, and its expiry when the
 * caller gave it (the twin of postgres/audit.ts's verifiedDetail).
 */
export function verifiedDetail(
  oneTime: boolean,
  token: UsedToken | undefined,
): Record<string, unknown> {
  return token === undefined
    ? { one_time: oneTime }
    : { one_time: oneTime, expires_at: token.expiresAt }
}

/** Writes one event; called inside the transaction of the change it records. */
export type RecordEvent = (
  now: number,
  type: AuditType,
  userId: string | null,
  sessionId: string | null,
  context: AuditContext,
  detail?: Record<string, unknown>,
) => AuditEvent

/**
 * Writes an event and the outbox rows that announce it (webhooks), in the caller's transaction.
 * better-sqlite3 runs a transaction synchronously, so the bell rung from a microtask rings once
 * it has committed (or rolled back: then the worker finds nothing new, which is harmless).
 */
export function eventWriter(db: Db, announcer: EventAnnouncer): RecordEvent {
  const insert = db.prepare<unknown[], SqliteAuditRow>(
    `INSERT INTO audit_events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
  )
  const queue = db.prepare<[string]>(OUTBOX_INSERT_JSON)
  // One bell for a transaction however many of its events queued rows.
  let ringing = false
  const ring = () => {
    ringing = false
    announcer.queued()
  }
  return (...args) => {
    const event = fromRow(insert.get(...eventValues(...args)) as SqliteAuditRow)
    const rows = announcer.rowsFor(event)
    if (rows.length > 0) {
      queue.run(outboxRowsJson(rows))
      if (!ringing) queueMicrotask(ring)
      ringing = true
    }
    return event
  }
}

/**
 * Ends every open session of a user and records a session.ended event for each, with the user's
 * rev as the change left it; the caller holds the transaction. Resolves to how many ended.
 */
export function sessionEnder(
  db: Db,
  record: RecordEvent,
): (userId: string, reason: EndReason, now: number, context: AuditContext) => number {
  const endAll = db
    .prepare<[number, string, string], string>(
      `UPDATE sessions SET ended_at = ?, end_reason = ? WHERE user_id = ? AND ended_at IS NULL
       RETURNING id`,
    )
    .pluck()
  const rev = db.prepare<[string], number>('SELECT rev FROM users WHERE id = ?').pluck()
  return (userId, reason, now, context) => {
    const ended = endAll.all(now, reason, userId)
    if (ended.length === 0) return 0
    const detail = { reason, rev: rev.get(userId) }
    for (const id of ended) record(now, 'session.ended', userId, id, context, detail)
    return ended.length
  }
}

const FEED = `type IN (${FEED_TYPES.map((type) => `'${type}'`).join(', ')})`

type SqliteAuditRow = AuditRow<string> & { seq: number }
const fromRow = (row: AuditRow<string>) => toEvent({ ...row, detail: JSON.parse(row.detail) })

/** The audit_events table; the twin of postgres/audit.ts. Arguments are checked by compose.ts. */
export function sqliteAudit(db: Db, guard: Guard, announcer: EventAnnouncer): AuditStore {
  const record = db.transaction(eventWriter(db, announcer))
  const prune = db.prepare<{ before: number; feedBefore: number }>(
    `DELETE FROM audit_events
     WHERE at < :before AND (NOT ${FEED} OR at < :feedBefore)`,
  )
  // One writer at a time: rows are inserted in the order their transactions commit, and the
  // AUTOINCREMENT seq follows that order without ever reusing a number, so "after seq" is exact.
  const feed = db.prepare<[number, number], FeedRow<string> & { seq: number }>(
    `SELECT seq, type, user_id, session_id, at, detail FROM audit_events
     WHERE seq > ? AND ${FEED} ORDER BY seq LIMIT ?`,
  )
  return {
    recordEvent: async (event, context, now) =>
      guard(() =>
        record.immediate(
          now,
          event.type,
          event.userId ?? null,
          event.sessionId ?? null,
          context,
          event.detail,
        ),
      ),
    async listEvents(query) {
      const { text, values } = listEventsSql(query, () => '?')
      return guard(() => db.prepare<unknown[], SqliteAuditRow>(text).all(...values)).map(fromRow)
    },
    pruneEvents: async (before, feedBefore) =>
      guard(() => prune.run({ before, feedBefore })).changes,
    async revocations(after, limit) {
      const position = after === undefined ? [0] : decodeFeedCursor(after)
      const [seq] = position ?? []
      if (position?.length !== 1 || typeof seq !== 'number') {
        throw badCursor()
      }
      const rows = guard(() => feed.all(seq, limit))
      const last = rows.at(-1)
      return {
        revocations: rows.map((row) => toRevocation({ ...row, detail: JSON.parse(row.detail) })),
        cursor: encodeFeedCursor([last ? last.seq : seq]),
      }
    },
  }
}
