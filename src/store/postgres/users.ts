import { v7 as uuidv7 } from 'uuid'
import type { Prunable } from '../compose.js'
import { toUser, type UserRow } from '../rows.js'
import type { EndReason } from '../sessions.js'
import type { ChangedUser, User, UserStore } from '../users.js'
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
  findOrCreate: {
    name: 'lk_find_or_create',
    text: `INSERT INTO users (id, email, status, rev, seq, created_at, created_by)
           VALUES ($1, $2, 'active', 0, 0, $3, $4)
           ON CONFLICT ((${EMAIL_KEY})) DO UPDATE SET email = users.email
           RETURNING *`,
  },
  list: {
    name: 'lk_list_users',
    text: 'SELECT * FROM users ORDER BY created_at DESC, id DESC LIMIT $1',
  },
  // Single-use in one statement: under READ COMMITTED a concurrent UPDATE of the same row waits
  // for the first to commit, then re-checks this WHERE against the new row, where seq has moved
  // on. Exactly one of any number of concurrent consumes matches, on any number of instances.
  consume: {
    name: 'lk_consume',
    text: `UPDATE users SET seq = seq + 1, last_login_at = $1
           WHERE id = $2 AND seq = $3 AND rev = $4 AND status = 'active'
           RETURNING *`,
  },
  touchLogin: {
    name: 'lk_touch_login',
    text: `UPDATE users SET last_login_at = $1
           WHERE id = $2 AND rev = $3 AND status = 'active'
           RETURNING *`,
  },
  revoke: { name: 'lk_revoke', text: 'UPDATE users SET rev = rev + 1 WHERE id = $1 RETURNING *' },
  setStatus: {
    name: 'lk_set_status',
    text: `UPDATE users SET status = $1,
             rev = CASE WHEN $1 = 'disabled' AND status = 'active' THEN rev + 1 ELSE rev END
           WHERE id = $2 RETURNING *`,
  },
  endSessions: {
    name: 'lk_end_user_sessions',
    text: `UPDATE sessions SET ended_at = $1, end_reason = $2
           WHERE user_id = $3 AND ended_at IS NULL`,
  },
  delete: { name: 'lk_delete_user', text: 'DELETE FROM users WHERE id = $1' },
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
             )`,
  },
} as const

/** The users table; the twin of sqlite/users.ts. Arguments are checked by compose.ts. */
export function postgresUsers(db: Connection): UserStore & Prunable {
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
  const changeAndEnd = (
    statement: Statement,
    values: unknown[],
    now: number,
    reason: EndReason,
  ): Promise<ChangedUser | undefined> =>
    db.transaction(async (client) => {
      const [row] = (await client.query<UserRow>({ ...statement, values })).rows
      if (!row) return undefined
      const ended = await client.query({ ...SQL.endSessions, values: [now, reason, row.id] })
      return { ...toUser(row), endedSessions: ended.rowCount ?? 0 }
    })
  return {
    findById: (id) => user(SQL.findById, [id]),
    findByEmail: (email) => user(SQL.findByEmail, [email]),
    async findOrCreate(email, now, createdBy = 'api') {
      const id = uuidv7()
      const found = (await user(SQL.findOrCreate, [id, email, now, createdBy])) as User
      return { user: found, created: found.id === id }
    },
    list: async ({ limit }) => (await db.rows<UserRow>(SQL.list, [limit])).map(toUser),
    consume: (id, expected, now) => user(SQL.consume, [now, id, expected.seq, expected.rev]),
    touchLogin: (id, rev, now) => user(SQL.touchLogin, [now, id, rev]),
    revoke: (id, now, reason = 'revoked') => changeAndEnd(SQL.revoke, [id], now, reason),
    setStatus: (id, status, now) =>
      status === 'disabled'
        ? changeAndEnd(SQL.setStatus, [status, id], now, 'disabled')
        : user(SQL.setStatus, [status, id]).then((u) => u && { ...u, endedSessions: 0 }),
    delete: async (id) => (await db.query(SQL.delete, [id])).rowCount === 1,
    /**
     * One statement would not do: an email queued for a candidate between the DELETE's snapshot
     * and its row lock would go unseen, and the cascade would delete it. Locking first (skipping
     * users someone is queueing an email for right now), then deleting under a fresh snapshot,
     * keeps every user with a pending or recent email; a queue attempt that arrives after the
     * lock waits, then fails its foreign key and is answered 503, never lost silently.
     */
    pruneUnused: (before, limit) =>
      db.transaction(async (client) => {
        const locked = await client.query<{ id: string }>({
          ...SQL.lockUnused,
          values: [before, limit],
        })
        if (locked.rows.length === 0) return 0
        const ids = locked.rows.map((row) => row.id)
        return (await client.query({ ...SQL.prune, values: [ids, before] })).rowCount ?? 0
      }),
  }
}
