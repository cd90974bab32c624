import { v7 as uuidv7 } from 'uuid'
import type { EventAnnouncer } from '../announce.js'
import { type AuditContext, SYSTEM } from '../audit.js'
import type { Prunable } from '../compose.js'
import { toUser, type UserRow } from '../rows.js'
import type {
  ChangedUser,
  ReportChange,
  RevokeReason,
  UsedToken,
  UserOrigin,
  UserStatus,
  UserStore,
} from '../users.js'
import { eventWriter, sessionEnder, verifiedDetail } from './audit.js'
import type { Db, Guard } from './connection.js'
import { suppressionWriter } from './suppressions.js'

const user = (row: UserRow | undefined) => row && toUser(row)
const changed = (change: { row: UserRow; ended: number } | undefined): ChangedUser | undefined =>
  change && { ...toUser(change.row), endedSessions: change.ended }

/** The users table; the twin of postgres/users.ts. Arguments are checked by compose.ts. */
export function sqliteUsers(db: Db, guard: Guard, announcer: EventAnnouncer): UserStore & Prunable {
  // Every statement is compiled once here: verify runs findById and consume on every request.
  const findById = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?')
  const findByEmail = db.prepare<[string], UserRow>(
    'SELECT * FROM users WHERE lower(email) = lower(?)',
  )
  const insert = db.prepare<[string, string, number, UserOrigin], UserRow>(
    `INSERT INTO users (id, email, status, rev, seq, created_at, created_by)
     VALUES (?, ?, 'active', 0, 0, ?, ?)
     ON CONFLICT (lower(email)) DO NOTHING
     RETURNING *`,
  )
  const list = db.prepare<[number], UserRow>(
    'SELECT * FROM users ORDER BY created_at DESC, id DESC LIMIT ?',
  )
  // Single-use without a token table: the token's seq is compared and incremented in one
  // statement, under SQLite's write lock. A read-then-write would let two concurrent requests
  // both see the old seq and both sign in; here exactly one UPDATE matches, the rest change
  // nothing. rev and status are in the same WHERE so a revoke or disable that lands between
  // the lookup and this update still wins.
  const consume = db.prepare<[number, string, number, number], UserRow>(
    `UPDATE users SET seq = seq + 1, last_login_at = ?
     WHERE id = ? AND seq = ? AND rev = ? AND status = 'active'
     RETURNING *`,
  )
  // Reusable links do not move seq, but the same reasoning applies to rev and status: checked
  // in the statement that records the login, not in an earlier read.
  const touchLogin = db.prepare<[number, string, number], UserRow>(
    `UPDATE users SET last_login_at = ?
     WHERE id = ? AND rev = ? AND status = 'active'
     RETURNING *`,
  )
  const revoke = db.prepare<[string], UserRow>(
    'UPDATE users SET rev = rev + 1 WHERE id = ? RETURNING *',
  )
  // A disable moves rev too (once, when the user was active), so an enable revives nothing
  // issued before it: the old links, codes and session JWTs carry the old rev. Each matches only
  // a user it changes, so a repeated disable or enable records no event.
  const change = {
    disabled: db.prepare<[string], UserRow>(
      `UPDATE users SET status = 'disabled', rev = rev + 1
       WHERE id = ? AND status = 'active' RETURNING *`,
    ),
    active: db.prepare<[string], UserRow>(
      "UPDATE users SET status = 'active' WHERE id = ? AND status = 'disabled' RETURNING *",
    ),
  }
  const record = eventWriter(db, announcer)
  const endSessions = sessionEnder(db, record)
  // The user's change, the end of their sessions and the events of both commit together, or
  // none does.
  const revokeAndEnd = db.transaction(
    (id: string, now: number, reason: RevokeReason, context: AuditContext) => {
      const row = revoke.get(id)
      if (!row) return undefined
      record(now, 'user.revoked', id, null, context, { reason, rev: row.rev })
      return { row, ended: endSessions(id, reason, now, context) }
    },
  )
  // "This wasn't me": seq moves on only while the user is as the report link names them.
  const voidPending = db.prepare<[string, number], UserRow>(
    `UPDATE users SET seq = seq + 1 WHERE id = ? AND rev = ? AND status = 'active' RETURNING *`,
  )
  const suppress = suppressionWriter(db)
  // One transaction: the void, the pause, the event and, when asked, the revoke path as a
  // revoke takes it (better-sqlite3 nests it as a savepoint of this one).
  const reportAll = db.transaction(
    (id: string, rev: number, change: ReportChange, now: number, context: AuditContext) => {
      const row = voidPending.get(id, rev)
      if (!row) return undefined
      const { inbox, pausedUntil, endSessions } = change
      suppress.run(inbox, row.email, 'reported', now, pausedUntil)
      const detail = { end_sessions: endSessions, paused_until: pausedUntil }
      record(now, 'user.reported', id, null, context, detail)
      if (!endSessions) return { row, ended: 0 }
      return revokeAndEnd(id, now, 'reported', context)
    },
  )
  const setStatusAndEnd = db.transaction(
    (id: string, status: UserStatus, now: number, context: AuditContext) => {
      const row = change[status].get(id)
      if (!row) {
        const unchanged = findById.get(id)
        return unchanged && { row: unchanged, ended: 0 }
      }
      if (status === 'active') {
        record(now, 'user.enabled', id, null, context, { rev: row.rev })
        return { row, ended: 0 }
      }
      record(now, 'user.disabled', id, null, context, { reason: 'disabled', rev: row.rev })
      return { row, ended: endSessions(id, 'disabled', now, context) }
    },
  )
  const remove = db.prepare<[string], { rev: number }>(
    'DELETE FROM users WHERE id = ? RETURNING rev',
  )
  const removeAndRecord = db.transaction((id: string, now: number, context: AuditContext) => {
    const row = remove.get(id)
    if (row) record(now, 'user.deleted', id, null, context, { reason: 'deleted', rev: row.rev })
    return row !== undefined
  })
  // A link used without a session (an access link, or a code handoff's login link).
  const consumeAndRecord = db.transaction(
    (
      id: string,
      seq: number,
      rev: number,
      now: number,
      context: AuditContext,
      token: UsedToken | undefined,
    ) => {
      const row = consume.get(now, id, seq, rev)
      if (row) record(now, 'link.verified', id, null, context, verifiedDetail(true, token))
      return row
    },
  )
  const touchAndRecord = db.transaction(
    (id: string, rev: number, now: number, context: AuditContext, token: UsedToken | undefined) => {
      const row = touchLogin.get(now, id, rev)
      if (row) record(now, 'link.verified', id, null, context, verifiedDetail(false, token))
      return row
    },
  )
  // One statement under the write lock: an email queued for the user by another process either
  // committed first (and the user stays) or waits and then fails its foreign key. Deleting the
  // user cascades only to rows older than `before` and finished, which would be pruned anyway.
  // Oldest first, as in PostgreSQL, so a batch takes the same users on either store.
  const prune = db.prepare<{ before: number; limit: number }>(
    `DELETE FROM users WHERE id IN (
       SELECT u.id FROM users u
       WHERE u.created_by = 'hosted' AND u.status = 'active' AND u.last_login_at IS NULL
         AND u.created_at < :before
         AND NOT EXISTS (
           SELECT 1 FROM outbox o
           WHERE o.user_id = u.id AND (o.status = 'pending' OR o.created_at >= :before)
         )
       ORDER BY u.created_at
       LIMIT :limit
     )
     RETURNING id, rev`,
  )
  const pruneAndRecord = db.transaction((before: number, limit: number, now: number) => {
    const pruned = prune.all({ before, limit }) as { id: string; rev: number }[]
    for (const { id, rev } of pruned) {
      record(now, 'user.deleted', id, null, SYSTEM, { reason: 'deleted', rev, unused: true })
    }
    return pruned.length
  })
  // The insert takes the write lock, so the lookup that follows a conflict sees the row that
  // caused it even when another process inserted it a moment ago.
  const findOrCreate = db.transaction(
    (email: string, now: number, createdBy: UserOrigin, context: AuditContext) => {
      const inserted = insert.get(uuidv7(), email, now, createdBy)
      if (inserted) {
        record(now, 'user.created', inserted.id, null, context, { created_by: createdBy })
        return { row: inserted, created: true }
      }
      const existing = findByEmail.get(email)
      if (!existing) throw new Error('user insert conflicted but no user has this email')
      return { row: existing, created: false }
    },
  )

  return {
    findById: async (id) => user(guard(() => findById.get(id))),
    findByEmail: async (email) => user(guard(() => findByEmail.get(email))),
    async findOrCreate(email, now, createdBy = 'api', audit = SYSTEM) {
      const { row, created } = guard(() => findOrCreate(email, now, createdBy, audit))
      return { user: toUser(row), created }
    },
    list: async ({ limit }) => guard(() => list.all(limit)).map(toUser),
    consume: async (id, expected, now, audit = SYSTEM, token) =>
      user(
        guard(() => consumeAndRecord.immediate(id, expected.seq, expected.rev, now, audit, token)),
      ),
    touchLogin: async (id, rev, now, audit = SYSTEM, token) =>
      user(guard(() => touchAndRecord.immediate(id, rev, now, audit, token))),
    revoke: async (id, now, reason = 'revoked', audit = SYSTEM) =>
      changed(guard(() => revokeAndEnd.immediate(id, now, reason, audit))),
    report: async (id, rev, change, now, audit = SYSTEM) =>
      changed(guard(() => reportAll.immediate(id, rev, change, now, audit))),
    setStatus: async (id, status, now, audit = SYSTEM) =>
      changed(guard(() => setStatusAndEnd.immediate(id, status, now, audit))),
    delete: async (id, now, audit = SYSTEM) =>
      guard(() => removeAndRecord.immediate(id, now, audit)),
    pruneUnused: async (before, limit, now) =>
      guard(() => pruneAndRecord.immediate(before, limit, now)),
  }
}
