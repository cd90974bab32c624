import {
  newSessionValues,
  SESSION_WITH_USER,
  type SessionRow,
  type SessionUserRow,
  toSession,
  toSessionWithUser,
} from '../rows.js'
import type { NewSession, SessionStore } from '../sessions.js'
import type { Db, Guard } from './connection.js'

/** The sessions table; the twin of postgres/sessions.ts. Arguments are checked by compose.ts. */
export function sqliteSessions(db: Db, guard: Guard): SessionStore {
  // The user-side steps are users.ts's consume and touchLogin (see there for why the counters
  // are compared in the UPDATE itself); here each runs in one transaction with the insert.
  const consume = db.prepare<[number, string, number, number], { id: string }>(
    `UPDATE users SET seq = seq + 1, last_login_at = ?
     WHERE id = ? AND seq = ? AND rev = ? AND status = 'active'
     RETURNING id`,
  )
  const touch = db.prepare<[number, string, number], { id: string }>(
    `UPDATE users SET last_login_at = ?
     WHERE id = ? AND rev = ? AND status = 'active'
     RETURNING id`,
  )
  const insert = db.prepare<unknown[], { id: string }>(
    `INSERT INTO sessions (user_id, created_at, id, client, expires_at, ip, user_agent)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     RETURNING id`,
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
  const endAll = db.prepare<[number, string, string]>(
    'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE user_id = ? AND ended_at IS NULL',
  )
  const list = db.prepare<{ userId: string; since: number; limit: number }, SessionRow>(
    `SELECT * FROM sessions
     WHERE user_id = :userId AND (ended_at IS NULL OR ended_at >= :since) AND expires_at >= :since
     ORDER BY created_at DESC, id DESC LIMIT :limit`,
  )
  const prune = db.prepare<{ before: number }>(
    'DELETE FROM sessions WHERE ended_at < :before OR expires_at < :before',
  )

  const open = (userId: string, session: NewSession, now: number) => {
    const { id } = insert.get(userId, now, ...newSessionValues(session)) as { id: string }
    return find.get(id) as SessionUserRow
  }
  const consumeAndOpen = db.transaction(
    (userId: string, seq: number, rev: number, session: NewSession, now: number) =>
      consume.get(now, userId, seq, rev) ? open(userId, session, now) : undefined,
  )
  const touchAndOpen = db.transaction(
    (userId: string, rev: number, session: NewSession, now: number) =>
      touch.get(now, userId, rev) ? open(userId, session, now) : undefined,
  )
  const rotateAndRead = db.transaction((id: string, seq: number, rev: number, now: number) =>
    rotate.get({ now, id, seq, rev }) ? find.get(id) : undefined,
  )
  const joined = (row: SessionUserRow | undefined) => row && toSessionWithUser(row)

  return {
    consumeAndOpen: async (userId, expected, session, now) =>
      joined(
        guard(() => consumeAndOpen.immediate(userId, expected.seq, expected.rev, session, now)),
      ),
    touchAndOpen: async (userId, rev, session, now) =>
      joined(guard(() => touchAndOpen.immediate(userId, rev, session, now))),
    findSession: async (id) => joined(guard(() => find.get(id))),
    rotate: async (id, expected, now) =>
      joined(guard(() => rotateAndRead.immediate(id, expected.refreshSeq, expected.rev, now))),
    async endSession(id, reason, now) {
      const row = guard(() => end.get(now, reason, id))
      return row && toSession(row)
    },
    endSessions: async (userId, reason, now) =>
      guard(() => endAll.run(now, reason, userId)).changes,
    listSessions: async (userId, { since, limit }) =>
      guard(() => list.all({ userId, since, limit })).map(toSession),
    pruneSessions: async (before) => guard(() => prune.run({ before })).changes,
  }
}
