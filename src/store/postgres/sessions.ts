import type { EventAnnouncer } from '../announce.js'
import { type AuditType, SYSTEM } from '../audit.js'
import {
  EVENT_COLUMNS,
  newSessionValues,
  SESSION_WITH_USER,
  type SessionRow,
  type SessionUserRow,
  toSession,
  toSessionWithUser,
} from '../rows.js'
import type { SessionStore, SessionWithUser } from '../sessions.js'
import {
  announced,
  announcing,
  endUserSessions,
  eventFrom,
  oneEvent,
  recorder,
  verifiedDetail,
} from './audit.js'
import type { Connection, Statement } from './connection.js'

/**
 * The session insert, fed by the user-side UPDATE `u` (no row there, no session), and its two
 * events, link.verified and session.created: `$1` is now, the session's own values
 * (newSessionValues) follow from `$first` on, then the events' (two ids, the context),
 * the rows that announce them (Announcements.params), and last the used token's expiry (null
 * when not given).
 */
const open = (first: number, oneTime: boolean) => `s AS (
    INSERT INTO sessions (user_id, created_at, id, client, expires_at, ip, user_agent)
    SELECT u.id, $1, ${[0, 1, 2, 3, 4].map((i) => `$${first + i}`).join(', ')} FROM u
    RETURNING *
  ), e AS (
    INSERT INTO audit_events (${EVENT_COLUMNS})
    ${eventFrom('link.verified', { id: first + 5, context: first + 7 }, 's', 's.user_id', 's.id', verifiedDetail(oneTime, first + 11))}
    UNION ALL
    ${eventFrom('session.created', { id: first + 6, context: first + 7 }, 's', 's.user_id', 's.id', "jsonb_build_object('client', s.client)")}
    RETURNING *
  ), ${announced(first + 10)}
  SELECT ${SESSION_WITH_USER} FROM s JOIN u ON u.id = s.user_id`

const SQL = {
  // The consume (see users.ts: one compare-and-increment, exactly one of concurrent calls wins)
  // and the session it opens are one statement: one round trip on the verify path, and the
  // insert sees only the row the UPDATE returned, so a lost compare inserts nothing.
  consumeAndOpen: {
    name: 'lk_consume_and_open',
    text: `WITH u AS (
             UPDATE users SET seq = seq + 1, last_login_at = $1
             WHERE id = $2 AND seq = $3 AND rev = $4 AND status = 'active'
             RETURNING *
           ), ${open(5, true)}`,
  },
  touchAndOpen: {
    name: 'lk_touch_and_open',
    text: `WITH u AS (
             UPDATE users SET last_login_at = $1
             WHERE id = $2 AND rev = $3 AND status = 'active'
             RETURNING *
           ), ${open(4, false)}`,
  },
  find: {
    name: 'lk_find_session',
    text: `SELECT ${SESSION_WITH_USER} FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE s.id = $1`,
  },
  // Under READ COMMITTED a concurrent UPDATE of the same session waits for the first to commit,
  // then re-checks this WHERE against the new row, where the sequence has moved on (or the
  // session has ended: revoke and disable end sessions in the transaction that moves rev).
  rotate: {
    name: 'lk_rotate_session',
    text: `WITH s AS (
             UPDATE sessions s SET refresh_seq = s.refresh_seq + 1, last_refreshed_at = $1
             FROM users u
             WHERE s.id = $2 AND s.refresh_seq = $3 AND s.ended_at IS NULL AND s.expires_at > $1
               AND u.id = s.user_id AND u.rev = $4 AND u.status = 'active'
             RETURNING s.*
           ), e AS (
             INSERT INTO audit_events (${EVENT_COLUMNS})
             ${eventFrom('session.refreshed', oneEvent(5), 's', 's.user_id', 's.id', "jsonb_build_object('refresh_seq', s.refresh_seq)")}
             RETURNING *
           ), ${announced(9)}
           SELECT ${SESSION_WITH_USER} FROM s JOIN users u ON u.id = s.user_id`,
  },
  end: {
    name: 'lk_end_session',
    text: `WITH s AS (
             UPDATE sessions SET ended_at = $1, end_reason = $2
             WHERE id = $3 AND ended_at IS NULL
             RETURNING *
           ), e AS (
             INSERT INTO audit_events (${EVENT_COLUMNS})
             ${eventFrom('session.ended', oneEvent(4), 's JOIN users u ON u.id = s.user_id', 's.user_id', 's.id', "jsonb_build_object('reason', s.end_reason, 'rev', u.rev)")}
             RETURNING *
           ), ${announced(8)}
           SELECT * FROM s`,
  },
  list: {
    name: 'lk_list_sessions',
    text: `SELECT * FROM sessions
           WHERE user_id = $1 AND (ended_at IS NULL OR ended_at >= $2) AND expires_at >= $2
           ORDER BY created_at DESC, id DESC LIMIT $3`,
  },
  prune: {
    name: 'lk_prune_sessions',
    text: 'DELETE FROM sessions WHERE ended_at < $1 OR expires_at < $1',
  },
} as const

/** The sessions table; the twin of sqlite/sessions.ts. Arguments are checked by compose.ts. */
export function postgresSessions(db: Connection, announcer: EventAnnouncer): SessionStore {
  const joined = async (
    statement: Statement,
    values: unknown[],
  ): Promise<SessionWithUser | undefined> => {
    const [row] = await db.rows<SessionUserRow>(statement, values)
    return row && toSessionWithUser(row)
  }
  const record = recorder(db, announcer)
  // A statement that records `types`: its answer is the session rows it returns.
  const recording = async (...args: Parameters<typeof record>) =>
    (await record<SessionUserRow>(...args)).rows
  const opened = async (rows: Promise<SessionUserRow[]>) => {
    const [row] = await rows
    return row && toSessionWithUser(row)
  }
  const SIGN_IN: AuditType[] = ['link.verified', 'session.created']
  return {
    consumeAndOpen: (userId, expected, session, now, audit = SYSTEM, token) =>
      opened(
        recording(
          SQL.consumeAndOpen,
          [now, userId, expected.seq, expected.rev, ...newSessionValues(session)],
          audit,
          now,
          SIGN_IN,
          [token?.expiresAt ?? null],
        ),
      ),
    touchAndOpen: (userId, rev, session, now, audit = SYSTEM, token) =>
      opened(
        recording(
          SQL.touchAndOpen,
          [now, userId, rev, ...newSessionValues(session)],
          audit,
          now,
          SIGN_IN,
          [token?.expiresAt ?? null],
        ),
      ),
    findSession: (id) => joined(SQL.find, [id]),
    rotate: (id, expected, now, audit = SYSTEM) =>
      opened(
        recording(SQL.rotate, [now, id, expected.refreshSeq, expected.rev], audit, now, [
          'session.refreshed',
        ]),
      ),
    async endSession(id, reason, now, audit = SYSTEM) {
      const rows = recording(SQL.end, [now, reason, id], audit, now, ['session.ended'])
      const [row] = (await rows) as unknown[] as SessionRow[]
      return row && toSession(row)
    },
    endSessions: (userId, reason, now, audit = SYSTEM) =>
      announcing(announcer, (announce) =>
        db.transaction((client) => endUserSessions(client, announce, userId, reason, now, audit)),
      ),
    listSessions: async (userId, { since, limit }) =>
      (await db.rows<SessionRow>(SQL.list, [userId, since, limit])).map(toSession),
    pruneSessions: async (before) => (await db.query(SQL.prune, [before])).rowCount ?? 0,
  }
}
