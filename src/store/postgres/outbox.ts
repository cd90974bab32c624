import type pg from 'pg'
import type { EventAnnouncer } from '../announce.js'
import { type AuditContext, type AuditType, SYSTEM } from '../audit.js'
import { listOutboxSql } from '../listing.js'
import type { OutboxStatus, OutboxStore } from '../outbox.js'
import {
  EVENT_COLUMNS,
  newOutboxValues,
  type OutboxRow,
  outboxRowsJson,
  toMessage,
  zeroCounts,
} from '../rows.js'
import { announced, eventFrom, recorder } from './audit.js'
import type { Connection, Statement } from './connection.js'
import { outboxInsertJson } from './outbox-insert.js'

export { outboxInsertJson }

/** An email's event from the outcome's row `o`, in the same statement (other kinds: none). */
const emailEvent = (
  type: string,
  params: { id: number; context: number; at: number },
  detail = '',
) =>
  `e AS (
     INSERT INTO audit_events (${EVENT_COLUMNS})
     ${eventFrom(type, params, "o WHERE o.kind = 'email'", 'o.user_id', 'NULL::uuid', `jsonb_build_object('message_id', o.id${detail})`)}
     RETURNING *
   ), ${announced(params.context + 3)}`

const SQL = {
  enqueue: {
    name: 'lk_enqueue',
    text: `WITH o AS (
             INSERT INTO outbox (id, kind, user_id, recipient, payload, status, next_attempt_at,
                                 created_at)
             VALUES ($1, $2, $3, $4, $5::jsonb, 'pending', $6, $7)
             RETURNING *
           ), ${emailEvent('email.queued', { id: 8, context: 9, at: 7 })}
           SELECT * FROM o`,
  },
  enqueueAll: { name: 'lk_enqueue_all', text: `${outboxInsertJson('$1')} RETURNING *` },
  // The due rows are locked as they are picked; SKIP LOCKED passes over rows another worker is
  // leasing at this moment instead of waiting for them, so two instances polling together each
  // take different rows, and none is handed out twice. `due` keeps the order they fell due in.
  claimDue: {
    name: 'lk_claim_due',
    text: `WITH due AS (
             SELECT id, next_attempt_at FROM outbox
             WHERE status = 'pending' AND next_attempt_at <= $1
               AND ($4::text IS NULL OR kind = $4)
             ORDER BY next_attempt_at, id
             LIMIT $3
             FOR UPDATE SKIP LOCKED
           )
           UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = $2
           FROM due WHERE o.id = due.id
           RETURNING o.*, due.next_attempt_at AS due_at`,
  },
  // Results land only on rows still pending: a late answer never reopens a finished message.
  markSent: {
    name: 'lk_mark_sent',
    text: `WITH o AS (
             UPDATE outbox SET status = 'sent', sent_at = $1, provider_id = $2, last_error = NULL
             WHERE id = $3 AND status = 'pending'
             RETURNING id, user_id, kind
           ), ${emailEvent('email.sent', { id: 4, context: 5, at: 1 }, ", 'provider_id', $2::text")}
           SELECT 1`,
  },
  markRetry: {
    name: 'lk_mark_retry',
    text: `UPDATE outbox SET next_attempt_at = $1, last_error = $2
           WHERE id = $3 AND status = 'pending'`,
  },
  markFailed: {
    name: 'lk_mark_failed',
    text: `WITH o AS (
             UPDATE outbox SET status = 'failed', last_error = $1
             WHERE id = $2 AND status = 'pending'
             RETURNING id, user_id, kind
           ), ${emailEvent('email.failed', { id: 4, context: 5, at: 3 })}
           SELECT 1`,
  },
  markSuppressed: {
    name: 'lk_mark_suppressed',
    text: `WITH o AS (
             UPDATE outbox SET status = 'suppressed', reason = $1
             WHERE id = $2 AND status = 'pending'
             RETURNING id, user_id, kind
           ), ${emailEvent('email.suppressed', { id: 4, context: 5, at: 3 }, ", 'reason', $1::text")}
           SELECT 1`,
  },
  count: {
    name: 'lk_count_outbox',
    text: 'SELECT status, count(*) AS n FROM outbox GROUP BY status',
  },
  backlog: {
    name: 'lk_outbox_backlog',
    text: `SELECT kind, count(*) AS pending, min(created_at) AS oldest FROM outbox
           WHERE status = 'pending' GROUP BY kind ORDER BY kind`,
  },
  prune: {
    name: 'lk_prune_outbox',
    text: "DELETE FROM outbox WHERE status != 'pending' AND created_at < $1",
  },
} as const

/** The outbox table; the twin of sqlite/outbox.ts. Arguments are checked by compose.ts. */
export function postgresOutbox(db: Connection, announcer: EventAnnouncer): OutboxStore {
  // An email's statements record its event (none for other kinds: their rows then match no
  // event, and announce nothing); the values end with the event's and its rows'.
  const record = recorder(db, announcer)
  const recording = async <T extends pg.QueryResultRow>(
    statement: Statement,
    values: unknown[],
    context: AuditContext,
    now: number,
    type: AuditType,
  ) => (await record<T>(statement, values, context, now, [type])).rows
  return {
    async enqueue(message, audit = SYSTEM) {
      const values = newOutboxValues(message)
      const [row] = await recording<OutboxRow>(
        SQL.enqueue,
        values,
        audit,
        message.now,
        'email.queued',
      )
      return toMessage(row as OutboxRow)
    },
    async enqueueAll(messages) {
      const rows = await db.rows<OutboxRow>(SQL.enqueueAll, [outboxRowsJson(messages)])
      // RETURNING promises no order; the ids (UUIDv7, minted in order) give it back.
      return rows.map(toMessage).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    },
    async claimDue(now, leaseMs, limit, kind) {
      const rows = await db.rows<OutboxRow & { due_at: number }>(SQL.claimDue, [
        now,
        now + leaseMs,
        limit,
        kind ?? null,
      ])
      // UPDATE … RETURNING does not keep the CTE's order: restore oldest due first.
      rows.sort((a, b) => a.due_at - b.due_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      return rows.map(({ due_at: _, ...row }) => toMessage(row))
    },
    async markSent(id, now, providerId, audit = SYSTEM) {
      await recording(SQL.markSent, [now, providerId, id], audit, now, 'email.sent')
    },
    async markRetry(id, nextAttemptAt, error) {
      await db.query(SQL.markRetry, [nextAttemptAt, error, id])
    },
    async markFailed(id, error, now, audit = SYSTEM) {
      await recording(SQL.markFailed, [error, id, now], audit, now, 'email.failed')
    },
    async markSuppressed(id, reason, now, audit = SYSTEM) {
      await recording(SQL.markSuppressed, [reason, id, now], audit, now, 'email.suppressed')
    },
    async listOutbox(query) {
      // Left unnamed, so it is planned per call.
      const { text, values } = listOutboxSql(query, (n) => `$${n}`)
      return (await db.rows<OutboxRow>({ name: '', text }, values)).map(toMessage)
    },
    async countOutbox() {
      const counts = zeroCounts()
      const rows = await db.rows<{ status: OutboxStatus; n: number }>(SQL.count, [])
      for (const { status, n } of rows) counts[status] = n
      return counts
    },
    async outboxBacklog() {
      const rows = await db.rows<{ kind: string; pending: number; oldest: number }>(SQL.backlog, [])
      return rows.map(({ kind, pending, oldest }) => ({ kind, pending, oldestCreatedAt: oldest }))
    },
    pruneOutbox: async (createdBefore) =>
      (await db.query(SQL.prune, [createdBefore])).rowCount ?? 0,
  }
}
