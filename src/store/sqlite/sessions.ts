import type { EventAnnouncer } from '../announce.js'
import { type AuditContext, SYSTEM } from '../audit.js'
import {
  newSessionValues,
  SESSION_WITH_USER,
  type SessionRow,
  type SessionUserRow,
  toSession,
  toSessionWithUser,
  toUser,
  type UserRow,
} from '../rows.js'
import type { EndReason, NewSession, SessionStore, SessionWithUser } from '../sessions.js'
import type { UsedToken } from '../users.js'
import { eventWriter, sessionEnder, verifiedDetail } from './audit.js'
import type { Db, Guard } from './connection.js'

/** The sessions table; the twin of postgres/sessions.ts. Arguments are checked by compose.ts. */
export function sqliteSessions(db: Db, guard: Guard, announcer: EventAnnouncer): SessionStore {
  // The user-side steps are users.ts's consume and touchLogin (see there for why the counters
  // are compared in the UPDATE itself); here each runs in one transaction with the insert.
  // Both return the user as the update left it, and the insert the session as stored, so the
  // answer is built from the rows the transaction wrote, without reading them again.
  const consume = db.prepare<[number, string, number, number], UserRow>(
    `UPDATE users SET seq = seq + 1, last_login_at = ?
     WHERE id = ? AND seq = ? AND rev = ? AND status = 'active'
     RETURNING *`,
  )
  const touch = db.prepare<[number, string, number], UserRow>(
    `UPDATE users SET last_login_at = ?
     WHERE id = ? AND rev = ? AND status = 'active'
     RETURNING *`,
  )
  const insert = db.prepare<unknown[], SessionRow>(
    `INSERT INTO sessions (user_id, created_at, id, client, expires_at, ip, user_agent)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     RETURNING *`,
  )
  const find = db.prepare<[string], SessionUserRow>(
    `SELECT ${SESSION_WITH_USER} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
  )
  // One compare-and-increment under the write lock, as consume: of concurrent refreshes with
  // one sequence exactly one UPDATE matches. The user's rev and status are checked in the same
  // statement, so a revoke or disable that commits first always wins.
  const rotate = db.prepare<{ now: number; id: string; seq: number; rev: number }, SessionRow>(
    `UPDATE sessions SET refresh_seq = refresh_seq + 1, last_refreshed_at = :now
     WHERE id = :id AND refresh_seq = :seq AND ended_at IS NULL AND expires_at > :now
       AND EXISTS (SELECT 1 FROM users u
                   WHERE u.id = sessions.user_id AND u.rev = :rev AND u.status = 'active')
     RETURNING id`,
  )
  const end = db.prepare<[number, string, string], SessionRow>(
    `UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL
     RETURNING *`,
  )
  const rev = db.prepare<[string], number>('SELECT rev FROM users WHERE id = ?').pluck()
  const record = eventWriter(db, announcer)
  const endAll = db.transaction(sessionEnder(db, record))
  const endAndRecord = db.transaction(
    (id: string, reason: EndReason, now: number, context: AuditContext) => {
      const row = end.get(now, reason, id)
      if (row) {
        const detail = { reason, rev: rev.get(row.user_id) }
        record(now, 'session.ended', row.user_id, row.id, context, detail)
      }
      return row
    },
  )
  const list = db.prepare<{ userId: string; since: number; limit: number }, SessionRow>(
    `SELECT * FROM sessions
     WHERE user_id = :userId AND (ended_at IS NULL OR ended_at >= :since) AND expires_at >= :since
     ORDER BY created_at DESC, id DESC LIMIT :limit`,
  )
  const prune = db.prepare<{ before: number }>(
    'DELETE FROM sessions WHERE ended_at < :before OR expires_at < :before',
  )

  // The link's use and the session's opening are recorded with the session they made.
  const open = (
    user: UserRow,
    session: NewSession,
    now: number,
    context: AuditContext,
    oneTime: boolean,
    token: UsedToken | undefined,
  ): SessionWithUser => {
    const row = insert.get(user.id, now, ...newSessionValues(session)) as SessionRow
    record(now, 'link.verified', user.id, row.id, context, verifiedDetail(oneTime, token))
    record(now, 'session.created', user.id, row.id, context, { client: session.client })
    return { session: toSession(row), user: toUser(user) }
  }
  const consumeAndOpen = db.transaction(
    (
      userId: string,
      seq: number,
      rev: number,
      session: NewSession,
      now: number,
      context: AuditContext,
      token: UsedToken | undefined,
    ) => {
      const user = consume.get(now, userId, seq, rev)
      return user && open(user, session, now, context, true, token)
    },
  )
  const touchAndOpen = db.transaction(
    (
      userId: string,
      rev: number,
      session: NewSession,
      now: number,
      context: AuditContext,
      token: UsedToken | undefined,
    ) => {
      const user = touch.get(now, userId, rev)
      return user && open(user, session, now, context, false, token)
    },
  )
  const rotateAndRead = db.transaction(
    (id: string, seq: number, rev: number, now: number, context: AuditContext) => {
      if (!rotate.get({ now, id, seq, rev })) return undefined
      const row = find.get(id) as SessionUserRow
      record(now, 'session.refreshed', row.user_id, id, context, { refresh_seq: row.refresh_seq })
      return row
    },
  )
  const joined = (row: SessionUserRow | undefined) => row && toSessionWithUser(row)

  return {
    consumeAndOpen: async (userId, expected, session, now, audit = SYSTEM, token) =>
      guard(() =>
        consumeAndOpen.immediate(userId, expected.seq, expected.rev, session, now, audit, token),
      ),
    touchAndOpen: async (userId, rev, session, now, audit = SYSTEM, token) =>
      guard(() => touchAndOpen.immediate(userId, rev, session, now, audit, token)),
    findSession: async (id) => joined(guard(() => find.get(id))),
    rotate: async (id, expected, now, audit = SYSTEM) =>
      joined(
        guard(() => rotateAndRead.immediate(id, expected.refreshSeq, expected.rev, now, audit)),
      ),
    async endSession(id, reason, now, audit = SYSTEM) {
      const row = guard(() => endAndRecord.immediate(id, reason, now, audit))
      return row && toSession(row)
    },
    endSessions: async (userId, reason, now, audit = SYSTEM) =>
      guard(() => endAll.immediate(userId, reason, now, audit)),
    listSessions: async (userId, { since, limit }) =>
      guard(() => list.all({ userId, since, limit })).map(toSession),
    pruneSessions: async (before) => guard(() => prune.run({ before })).changes,
  }
}
