import type { EventAnnouncer } from '../announce.js'
import { type AuditContext, SYSTEM } from '../audit.js'
import { listOutboxSql } from '../listing.js'
import type { OutboxMessage, OutboxStatus, OutboxStore } from '../outbox.js'
import { newOutboxValues, type OutboxRow, outboxRowsJson, toMessage, zeroCounts } from '../rows.js'
import { eventWriter } from './audit.js'
import type { Db, Guard } from './connection.js'
import { OUTBOX_INSERT_JSON } from './outbox-insert.js'

/** The row an outcome landed on: which message, whose, of what kind. */
type Outcome = { id: string; user_id: string | null; kind: string }

/** SQLite keeps the payload as JSON text. */
type SqliteOutboxRow = OutboxRow<string>
const fromRow = (row: SqliteOutboxRow): OutboxMessage =>
  toMessage({ ...row, payload: JSON.parse(row.payload) })

export { OUTBOX_INSERT_JSON }

/** The outbox table; the twin of postgres/outbox.ts. Arguments are checked by compose.ts. */
export function sqliteOutbox(db: Db, guard: Guard, announcer: EventAnnouncer): OutboxStore {
  const enqueue = db.prepare<unknown[], SqliteOutboxRow>(
    `INSERT INTO outbox (id, kind, user_id, recipient, payload, status, next_attempt_at,
                         created_at)
     VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)
     RETURNING *`,
  )
  const enqueueAll = db.prepare<[string], SqliteOutboxRow>(`${OUTBOX_INSERT_JSON} RETURNING *`)
  // Picking the due rows and leasing them happen in one IMMEDIATE transaction: under SQLite's
  // write lock no other process can pick the same rows in between, and a row whose worker dies
  // comes due again when the lease runs out. Rows come back in the order they fell due.
  const dueIds = db
    .prepare<[number, string | null, string | null, number], string>(
      `SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
         AND (? IS NULL OR kind = ?)
       ORDER BY next_attempt_at, id LIMIT ?`,
    )
    .pluck()
  const lease = db.prepare<[number, string], SqliteOutboxRow>(
    'UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ? RETURNING *',
  )
  const claimDue = db.transaction(
    (now: number, leasedUntil: number, limit: number, kind: string | null) =>
      dueIds.all(now, kind, kind, limit).map((id) => lease.get(leasedUntil, id) as SqliteOutboxRow),
  )
  // Results land only on rows still pending: a late answer never reopens a finished message.
  const markSent = db.prepare<[number, string | null, string], Outcome>(
    `UPDATE outbox SET status = 'sent', sent_at = ?, provider_id = ?, last_error = NULL
     WHERE id = ? AND status = 'pending' RETURNING id, user_id, kind`,
  )
  const markRetry = db.prepare<[number, string, string]>(
    "UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'",
  )
  const markFailed = db.prepare<[string, string], Outcome>(
    `UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ? AND status = 'pending'
     RETURNING id, user_id, kind`,
  )
  const markSuppressed = db.prepare<[string, string], Outcome>(
    `UPDATE outbox SET status = 'suppressed', reason = ? WHERE id = ? AND status = 'pending'
     RETURNING id, user_id, kind`,
  )
  const record = eventWriter(db, announcer)
  // An email's queueing and each outcome are recorded with the change, in one transaction.
  const enqueueAndRecord = db.transaction((values: unknown[], context: AuditContext) => {
    const row = enqueue.get(...values) as SqliteOutboxRow
    if (row.kind === 'email') {
      record(row.created_at, 'email.queued', row.user_id, null, context, { message_id: row.id })
    }
    return row
  })
  const outcome = db.transaction(
    (
      change: () => Outcome | undefined,
      type: 'email.sent' | 'email.failed' | 'email.suppressed',
      now: number,
      context: AuditContext,
      detail: Record<string, unknown>,
    ) => {
      const row = change()
      if (row?.kind === 'email') {
        record(now, type, row.user_id, null, context, { message_id: row.id, ...detail })
      }
    },
  )
  const count = db.prepare<[], { status: OutboxStatus; n: number }>(
    'SELECT status, count(*) AS n FROM outbox GROUP BY status',
  )
  const backlog = db.prepare<[], { kind: string; pending: number; oldest: number }>(
    `SELECT kind, count(*) AS pending, min(created_at) AS oldest FROM outbox
     WHERE status = 'pending' GROUP BY kind ORDER BY kind`,
  )
  const prune = db.prepare<[number]>(
    "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?",
  )

  return {
    async enqueue(message, audit = SYSTEM) {
      return fromRow(guard(() => enqueueAndRecord.immediate(newOutboxValues(message), audit)))
    },
    async enqueueAll(messages) {
      const rows = guard(() => enqueueAll.all(outboxRowsJson(messages)))
      // RETURNING promises no order; the ids (UUIDv7, minted in order) give it back.
      return rows.map(fromRow).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    },
    claimDue: async (now, leaseMs, limit, kind) =>
      guard(() => claimDue.immediate(now, now + leaseMs, limit, kind ?? null)).map(fromRow),
    async markSent(id, now, providerId, audit = SYSTEM) {
      const change = () => markSent.get(now, providerId, id)
      guard(() => outcome.immediate(change, 'email.sent', now, audit, { provider_id: providerId }))
    },
    async markRetry(id, nextAttemptAt, error) {
      guard(() => markRetry.run(nextAttemptAt, error, id))
    },
    async markFailed(id, error, now, audit = SYSTEM) {
      const change = () => markFailed.get(error, id)
      guard(() => outcome.immediate(change, 'email.failed', now, audit, {}))
    },
    async markSuppressed(id, reason, now, audit = SYSTEM) {
      const change = () => markSuppressed.get(reason, id)
      guard(() => outcome.immediate(change, 'email.suppressed', now, audit, { reason }))
    },
    async listOutbox(query) {
      const { text, values } = listOutboxSql(query, () => '?')
      return guard(() => db.prepare<unknown[], SqliteOutboxRow>(text).all(...values)).map(fromRow)
    },
    async countOutbox() {
      const counts = zeroCounts()
      for (const { status, n } of guard(() => count.all())) counts[status] = n
      return counts
    },
    outboxBacklog: async () =>
      guard(() => backlog.all()).map(({ kind, pending, oldest }) => ({
        kind,
        pending,
        oldestCreatedAt: oldest,
      })),
    pruneOutbox: async (createdBefore) => guard(() => prune.run(createdBefore)).changes,
  }
}
