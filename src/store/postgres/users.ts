import type pg from 'pg'
import { v7 as uuidv7 } from 'uuid'
import type { EventAnnouncer } from '../announce.js'
import { type AuditContext, SYSTEM } from '../audit.js'
import type { Prunable } from '../compose.js'
import { EVENT_COLUMNS, toUser, type UserRow } from '../rows.js'
import type { EndReason } from '../sessions.js'
import type { ChangedUser, ReportChange, User, UserStore } from '../users.js'
import {
  type Announcements,
  announced,
  announcing,
  endUserSessions,
  eventFrom,
  oneEvent,
  recordDeleted,
  recorder,
  recordOn,
  verifiedDetail,
} from './audit.js'
import type { Connection, Statement } from './connection.js'

/**
 * Compare emails as the SQLite store does: ASCII letters fold, anything else is compared exactly,
 * whatever the database's locale. The users_email_lower index is built on this expression.
 */
const EMAIL_KEY = 'lower(email COLLATE "C")'

// Every statement has a name: pg prepares it once per connection, and the verify path (findById,
// consume) then sends only parameters.
const SQL = {
  findById: { name: 'lk_find_by_id', text: 'SELECT * FROM users WHERE id = $1' },
  findByEmail: {
    name: 'lk_find_by_email',
    text: `SELECT * FROM users WHERE ${EMAIL_KEY} = lower($1 COLLATE "C")`,
  },
  // Insert-or-read in one statement and one round trip, whether or not the user exists: the
  // no-op update makes the conflicting row come back too (waiting for a concurrent insert of
  // the same email to commit), so a new and a known address cost the same.
  // A user it created (the id is this call's) is recorded in the same statement.
  findOrCreate: {
    name: 'lk_find_or_create',
    text: `WITH u AS (
             INSERT INTO users (id, email, status, rev, seq, created_at, created_by)
             VALUES ($2, $3, 'active', 0, 0, $1, $4)
             ON CONFLICT ((${EMAIL_KEY})) DO UPDATE SET email = users.email
             RETURNING *
           ), e AS (
             INSERT INTO audit_events (${EVENT_COLUMNS})
             ${eventFrom('user.created', oneEvent(5), 'u WHERE u.id = $2', 'u.id', 'NULL::uuid', "jsonb_build_object('created_by', u.created_by)")}
             RETURNING *
           ), ${announced(9)}
           SELECT * FROM u`,
  },
  list: {
    name: 'lk_list_users',
    text: 'SELECT * FROM users ORDER BY created_at DESC, id DESC LIMIT $1',
  },
  // Single-use in one statement: under READ COMMITTED a concurrent UPDATE of the same row waits
  // for the first to commit, then re-checks this WHERE against the new row, where seq has moved
  // on. Exactly one of any number of concurrent consumes matches, on any number of instances.
  // A link used without a session (an access link, or a code handoff's login link), recorded
  // in the same statement.
  consume: {
    name: 'lk_consume',
    text: `WITH u AS (
             UPDATE users SET seq = seq + 1, last_login_at = $1
             WHERE id = $2 AND seq = $3 AND rev = $4 AND status = 'active'
             RETURNING *
           ), e AS (
             INSERT INTO audit_events (${EVENT_COLUMNS})
             ${eventFrom('link.verified', oneEvent(5), 'u', 'u.id', 'NULL::uuid', verifiedDetail(true, 10))}
             RETURNING *
           ), ${announced(9)}
           SELECT * FROM u`,
  },
  touchLogin: {
    name: 'lk_touch_login',
    text: `WITH u AS (
             UPDATE users SET last_login_at = $1
             WHERE id = $2 AND rev = $3 AND status = 'active'
             RETURNING *
           ), e AS (
             INSERT INTO audit_events (${EVENT_COLUMNS})
             ${eventFrom('link.verified', oneEvent(4), 'u', 'u.id', 'NULL::uuid', verifiedDetail(false, 9))}
             RETURNING *
           ), ${announced(8)}
           SELECT * FROM u`,
  },
  revoke: { name: 'lk_revoke', text: 'UPDATE users SET rev = rev + 1 WHERE id = $1 RETURNING *' },
  // A report's void, pause and event: the suppression and the event are written only when the
  // user matched (the CTEs read `u`).
  report: {
    name: 'lk_report',
    text: `WITH u AS (
             UPDATE users SET seq = seq + 1
             WHERE id = $2 AND rev = $3 AND status = 'active'
             RETURNING *
           ), s AS (
             INSERT INTO suppressions (address, email, reason, created_at, expires_at)
             SELECT $4::text, u.email, 'reported', $1::bigint, $5::bigint FROM u
             ON CONFLICT (address) DO UPDATE SET email = excluded.email, reason = excluded.reason,
               created_at = excluded.created_at, expires_at = excluded.expires_at
             WHERE suppressions.expires_at IS NOT NULL AND suppressions.expires_at < excluded.expires_at
           ), e AS (
             INSERT INTO audit_events (${EVENT_COLUMNS})
             ${eventFrom('user.reported', oneEvent(7), 'u', 'u.id', 'NULL::uuid', '$6::jsonb')}
             RETURNING *
           ), ${announced(11)}
           SELECT * FROM u`,
  },
  // Each matches only a user it changes, so a repeated disable or enable records no event. A
  // disable moves rev too, so an enable revives nothing issued before it.
  disable: {
    name: 'lk_disable',
    text: `UPDATE users SET status = 'disabled', rev = rev + 1
           WHERE id = $1 AND status = 'active' RETURNING *`,
  },
  enable: {
    name: 'lk_enable',
    text: `UPDATE users SET status = 'active' WHERE id = $1 AND status = 'disabled' RETURNING *`,
  },
  delete: {
    name: 'lk_delete_user',
    text: `WITH u AS (DELETE FROM users WHERE id = $2 RETURNING id, rev), e AS (
             INSERT INTO audit_events (${EVENT_COLUMNS})
             ${eventFrom('user.deleted', oneEvent(3), 'u', 'u.id', 'NULL::uuid', "jsonb_build_object('reason', 'deleted', 'rev', u.rev)")}
             RETURNING *
           ), ${announced(7)}
           SELECT id FROM e`,
  },
  // Pruning unused users takes two statements in one transaction (see pruneUnused): lock the
  // candidates, then delete those that still have no recent or pending email, as seen by a
  // snapshot taken after the locks were granted.
  lockUnused: {
    name: 'lk_lock_unused_users',
    text: `SELECT id FROM users u
           WHERE created_by = 'hosted' AND status = 'active' AND last_login_at IS NULL
             AND created_at < $1
             AND NOT EXISTS (
               SELECT 1 FROM outbox o
               WHERE o.user_id = u.id AND (o.status = 'pending' OR o.created_at >= $1)
             )
           ORDER BY created_at
           LIMIT $2
           FOR UPDATE SKIP LOCKED`,
  },
  prune: {
    name: 'lk_prune_users',
    text: `DELETE FROM users u
           WHERE u.id = ANY($1::uuid[])
             AND NOT EXISTS (
               SELECT 1 FROM outbox o
               WHERE o.user_id = u.id AND (o.status = 'pending' OR o.created_at >= $2)
             )
           RETURNING u.id, u.rev`,
  },
} as const

/** The users table; the twin of sqlite/users.ts. Arguments are checked by compose.ts. */
export function postgresUsers(db: Connection, announcer: EventAnnouncer): UserStore & Prunable {
  const user = async (statement: Statement, values: unknown[]): Promise<User | undefined> => {
    const [row] = await db.rows<UserRow>(statement, values)
    return row && toUser(row)
  }
  /**
   * A change to the user and the end of their open sessions, in one transaction of two
   * statements. Not one statement: its sessions UPDATE would read the table as it was when the
   * statement began, and miss a session whose consume committed while this waited for the user
   * row. The second statement reads afresh; a consume still waiting behind this one's row lock
   * then finds rev or status moved on and opens nothing.
   */
  const changeAndEndOn = async (
    client: pg.PoolClient,
    announce: Announcements,
    statement: Statement,
    id: string,
    now: number,
    reason: EndReason,
    context: AuditContext,
  ): Promise<ChangedUser | undefined> => {
    const [row] = (await client.query<UserRow>({ ...statement, values: [id] })).rows
    if (!row) return undefined
    const type = reason === 'disabled' ? 'user.disabled' : 'user.revoked'
    await recordOn(client, announce, now, type, id, null, context, { reason, rev: row.rev })
    const ended = await endUserSessions(client, announce, id, reason, now, context)
    return { ...toUser(row), endedSessions: ended }
  }
  const changeAndEnd = (
    statement: Statement,
    id: string,
    now: number,
    reason: EndReason,
    context: AuditContext,
  ): Promise<ChangedUser | undefined> =>
    announcing(announcer, (announce) =>
      db.transaction((client) =>
        changeAndEndOn(client, announce, statement, id, now, reason, context),
      ),
    )
  // "This wasn't me", one transaction: the void (seq, only while the user is as the report
  // link names them) with the pause and the event in one statement, then, when asked, the
  // revoke path as a revoke takes it.
  const report = (
    id: string,
    rev: number,
    change: ReportChange,
    now: number,
    context: AuditContext,
  ): Promise<ChangedUser | undefined> =>
    announcing(announcer, (announce) =>
      db.transaction(async (client) => {
        const detail = JSON.stringify({
          end_sessions: change.endSessions,
          paused_until: change.pausedUntil,
        })
        const values = [now, id, rev, change.inbox, change.pausedUntil, detail]
        const params = announce.params(context, now, ['user.reported'])
        const [row] = (
          await client.query<UserRow>({ ...SQL.report, values: [...values, ...params] })
        ).rows
        if (!row) return undefined
        if (!change.endSessions) return { ...toUser(row), endedSessions: 0 }
        return changeAndEndOn(client, announce, SQL.revoke, id, now, 'reported', context)
      }),
    )
  const enable = (id: string, now: number, context: AuditContext) =>
    announcing(announcer, (announce) =>
      db.transaction(async (client) => {
        const [row] = (await client.query<UserRow>({ ...SQL.enable, values: [id] })).rows
        if (!row) return undefined
        await recordOn(client, announce, now, 'user.enabled', id, null, context, { rev: row.rev })
        return { ...toUser(row), endedSessions: 0 }
      }),
    )
  // Unchanged (disabled already, active already): the user as it is, and no event.
  const unchanged = async (
    id: string,
    changed: ChangedUser | undefined,
  ): Promise<ChangedUser | undefined> =>
    changed ?? (await user(SQL.findById, [id]).then((u) => u && { ...u, endedSessions: 0 }))
  // A statement that records `types`: its values end with the events' and their rows'.
  const recording = recorder(db, announcer)
  const changed = async (result: Promise<{ rows: unknown[] }>) => {
    const [row] = (await result).rows as UserRow[]
    return row && toUser(row)
  }
  return {
    findById: (id) => user(SQL.findById, [id]),
    findByEmail: (email) => user(SQL.findByEmail, [email]),
    async findOrCreate(email, now, createdBy = 'api', audit = SYSTEM) {
      const id = uuidv7()
      const values = [now, id, email, createdBy]
      const found = (await changed(
        recording(SQL.findOrCreate, values, audit, now, ['user.created']),
      )) as User
      return { user: found, created: found.id === id }
    },
    list: async ({ limit }) => (await db.rows<UserRow>(SQL.list, [limit])).map(toUser),
    consume: (id, expected, now, audit = SYSTEM, token) =>
      changed(
        recording(
          SQL.consume,
          [now, id, expected.seq, expected.rev],
          audit,
          now,
          ['link.verified'],
          [token?.expiresAt ?? null],
        ),
      ),
    touchLogin: (id, rev, now, audit = SYSTEM, token) =>
      changed(
        recording(
          SQL.touchLogin,
          [now, id, rev],
          audit,
          now,
          ['link.verified'],
          [token?.expiresAt ?? null],
        ),
      ),
    report: (id, rev, change, now, audit = SYSTEM) => report(id, rev, change, now, audit),
    revoke: (id, now, reason = 'revoked', audit = SYSTEM) =>
      changeAndEnd(SQL.revoke, id, now, reason, audit),
    setStatus: async (id, status, now, audit = SYSTEM) =>
      unchanged(
        id,
        status === 'disabled'
          ? await changeAndEnd(SQL.disable, id, now, 'disabled', audit)
          : await enable(id, now, audit),
      ),
    delete: async (id, now, audit = SYSTEM) =>
      (await recording(SQL.delete, [now, id], audit, now, ['user.deleted'])).rowCount === 1,
    /**
     * One statement would not do: an email queued for a candidate between the DELETE's snapshot
     * and its row lock would go unseen, and the cascade would delete it. Locking first (skipping
     * users someone is queueing an email for right now), then deleting under a fresh snapshot,
     * keeps every user with a pending or recent email; a queue attempt that arrives after the
     * lock waits, then fails its foreign key and is answered 503, never lost silently.
     */
    pruneUnused: (before, limit, now) =>
      announcing(announcer, (announce) =>
        db.transaction(async (client) => {
          const locked = await client.query<{ id: string }>({
            ...SQL.lockUnused,
            values: [before, limit],
          })
          if (locked.rows.length === 0) return 0
          const ids = locked.rows.map((row) => row.id)
          const pruned = await client.query<{ id: string; rev: number }>({
            ...SQL.prune,
            values: [ids, before],
          })
          await recordDeleted(client, announce, pruned.rows, now)
          return pruned.rows.length
        }),
      ),
  }
}
