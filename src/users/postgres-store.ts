import pg from 'pg'
import { v7 as uuidv7 } from 'uuid'
import { Unavailable } from '../errors.js'
import { migrations, schemaMigrationsTable } from './migrations/index.js'
import type { NewOutboxMessage, OutboxMessage, OutboxQuery, OutboxStatus } from './outbox-store.js'
import {
  checkLimit,
  checkOrigin,
  checkTime,
  isUserStatus,
  type OutboxRow,
  toMessage,
  toUser,
  type UserRow,
  zeroCounts,
} from './rows.js'
import type { Expected, Store, User, UserOrigin, UserStatus } from './store.js'

export interface PostgresOptions {
  /** Connections in the pool; each instance holds at most this many. */
  poolSize?: number
}

/** Any UUID spelling PostgreSQL's uuid type takes as we write it; anything else matches no row. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Times, counters and counts are bigint columns: all fit a JavaScript number exactly. */
const INT8 = 20
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

/** How long one migration statement may take, the advisory lock wait included. */
const MIGRATION_TIMEOUT_MS = 3_600_000

/** SQLSTATE 42P01: a table the statement names does not exist. */
const UNDEFINED_TABLE = '42P01'

/** Serialises migrations across instances starting at once (a constant of our own). */
export const MIGRATION_LOCK = 0x6c61_7463

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
    text: 'UPDATE users SET status = $1 WHERE id = $2 RETURNING *',
  },
  delete: { name: 'lk_delete_user', text: 'DELETE FROM users WHERE id = $1' },
  // A read records when the address was last asked for.
  phantom: {
    name: 'lk_phantom',
    text: `INSERT INTO phantoms (key, id, created_at, seen_at) VALUES ($1, $2, $3, $3)
           ON CONFLICT (key) DO UPDATE SET seen_at = GREATEST(phantoms.seen_at, excluded.seen_at)
           RETURNING id`,
  },
  // Pruning unused users takes two statements in one transaction (see pruneUnused): lock the
  // candidates, then delete those that still have no recent or pending email, as seen by a
  // snapshot taken after the locks were granted.
  lockUnusedUsers: {
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
  pruneUsers: {
    name: 'lk_prune_users',
    text: `DELETE FROM users u
           WHERE u.id = ANY($1::uuid[])
             AND NOT EXISTS (
               SELECT 1 FROM outbox o
               WHERE o.user_id = u.id AND (o.status = 'pending' OR o.created_at >= $2)
             )`,
  },
  // seen_at is compared again on the row itself, so a phantom asked for while this runs stays.
  prunePhantoms: {
    name: 'lk_prune_phantoms',
    text: `DELETE FROM phantoms p
           WHERE p.seen_at < $1
             AND p.key IN (SELECT key FROM phantoms WHERE seen_at < $1 LIMIT $2)`,
  },
  enqueue: {
    name: 'lk_enqueue',
    text: `INSERT INTO outbox (id, user_id, recipient, payload, status, reason, next_attempt_at,
                               created_at)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)
           RETURNING *`,
  },
  // The due rows are locked as they are picked; SKIP LOCKED passes over rows another worker is
  // leasing at this moment instead of waiting for them, so two instances polling together each
  // take different rows, and none is handed out twice. `due` keeps the order they fell due in.
  claimDue: {
    name: 'lk_claim_due',
    text: `WITH due AS (
             SELECT id, next_attempt_at FROM outbox
             WHERE status = 'pending' AND next_attempt_at <= $1
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
    text: `UPDATE outbox SET status = 'sent', sent_at = $1, provider_id = $2, last_error = NULL
           WHERE id = $3 AND status = 'pending'`,
  },
  markRetry: {
    name: 'lk_mark_retry',
    text: `UPDATE outbox SET next_attempt_at = $1, last_error = $2
           WHERE id = $3 AND status = 'pending'`,
  },
  markFailed: {
    name: 'lk_mark_failed',
    text: `UPDATE outbox SET status = 'failed', last_error = $1
           WHERE id = $2 AND status = 'pending'`,
  },
  markSuppressed: {
    name: 'lk_mark_suppressed',
    text: `UPDATE outbox SET status = 'suppressed', reason = $1
           WHERE id = $2 AND status = 'pending'`,
  },
  countOutbox: {
    name: 'lk_count_outbox',
    text: 'SELECT status, count(*) AS n FROM outbox GROUP BY status',
  },
  pruneOutbox: {
    name: 'lk_prune_outbox',
    text: "DELETE FROM outbox WHERE status != 'pending' AND created_at < $1",
  },
  // Readiness means the schema is there too, not only the server.
  ping: { name: 'lk_ping', text: 'SELECT 1 AS ok FROM schema_migrations LIMIT 1' },
} as const

type Statement = { name: string; text: string }

/**
 * The networked store: PostgreSQL through a pool of connections, for several instances sharing
 * one database. Nothing is done at construction: the first query connects and applies pending
 * migrations, so an instance started while the database is down comes up, reports not ready,
 * and recovers on its own when the database answers.
 */
export class PostgresStore implements Store {
  readonly #pool: pg.Pool
  #schema: Promise<void> | undefined
  #schemaReady = false
  #closed = false

  static open(url: string, options: PostgresOptions = {}): PostgresStore {
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
      throw new TypeError('url must be a postgres:// or postgresql:// URL')
    }
    return new PostgresStore(
      new pg.Pool({
        connectionString: url,
        max: options.poolSize ?? 10,
        // However the database fails, a request gets its 503 within seconds: a connection that
        // cannot be made in 5 s, a statement the server runs for over 10 s (stuck behind a
        // lock), or an answer that never arrives within 12 s (a network silently dropping
        // packets, where only the client can tell). Keep-alive finds dead idle connections.
        connectionTimeoutMillis: 5_000,
        statement_timeout: 10_000,
        query_timeout: 12_000,
        keepAlive: true,
        idleTimeoutMillis: 30_000,
        application_name: 'latchkey',
        types,
      }),
    )
  }

  private constructor(pool: pg.Pool) {
    this.#pool = pool
    // An idle connection that the server drops (restart, database dropped, network) emits here;
    // without a listener that would crash the process. The pool discards the connection, and
    // the next query opens a fresh one or reports the outage as Unavailable.
    pool.on('error', () => undefined)
  }

  async findById(id: string): Promise<User | undefined> {
    if (!isUuid(id)) return undefined
    return this.#user(SQL.findById, [id])
  }

  async findByEmail(email: string): Promise<User | undefined> {
    return this.#user(SQL.findByEmail, [email])
  }

  async findOrCreate(
    email: string,
    now: number,
    createdBy: UserOrigin = 'api',
  ): Promise<{ user: User; created: boolean }> {
    if (typeof email !== 'string' || email === '') {
      throw new TypeError('email must be a non-empty string')
    }
    checkTime(now)
    checkOrigin(createdBy)
    const id = uuidv7()
    const user = (await this.#user(SQL.findOrCreate, [id, email, now, createdBy])) as User
    return { user, created: user.id === id }
  }

  async list(options: { limit: number }): Promise<User[]> {
    const limit = options?.limit
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new TypeError('limit must be a positive integer')
    }
    return (await this.#rows<UserRow>(SQL.list, [limit])).map(toUser)
  }

  async consume(id: string, expected: Expected, now: number): Promise<User | undefined> {
    checkTime(now)
    if (!isUuid(id)) return undefined
    return this.#user(SQL.consume, [now, id, expected.seq, expected.rev])
  }

  async touchLogin(id: string, rev: number, now: number): Promise<User | undefined> {
    checkTime(now)
    if (!isUuid(id)) return undefined
    return this.#user(SQL.touchLogin, [now, id, rev])
  }

  async revoke(id: string): Promise<User | undefined> {
    if (!isUuid(id)) return undefined
    return this.#user(SQL.revoke, [id])
  }

  async setStatus(id: string, status: UserStatus): Promise<User | undefined> {
    if (!isUserStatus(status)) {
      throw new TypeError('status must be "active" or "disabled"')
    }
    if (!isUuid(id)) return undefined
    return this.#user(SQL.setStatus, [status, id])
  }

  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false
    return (await this.#query(SQL.delete, [id])).rowCount === 1
  }

  async phantomId(key: string, now: number): Promise<string> {
    checkTime(now)
    const [row] = await this.#rows<{ id: string }>(SQL.phantom, [key, uuidv7(), now])
    return (row as { id: string }).id
  }

  /**
   * One statement would not do: an email queued for a candidate between the DELETE's snapshot
   * and its row lock would go unseen, and the cascade would delete it. Locking first (skipping
   * users someone is queueing an email for right now), then deleting under a fresh snapshot,
   * keeps every user with a pending or recent email; a queue attempt that arrives after the lock
   * waits, then fails its foreign key and is answered 503, never lost silently.
   */
  async pruneUnused(before: number, limit: number): Promise<{ users: number; phantoms: number }> {
    checkTime(before)
    checkLimit(limit)
    const users = await this.#transaction(async (client) => {
      const locked = await client.query<{ id: string }>({
        ...SQL.lockUnusedUsers,
        values: [before, limit],
      })
      if (locked.rows.length === 0) return 0
      const ids = locked.rows.map((row) => row.id)
      return (await client.query({ ...SQL.pruneUsers, values: [ids, before] })).rowCount ?? 0
    })
    const phantoms = (await this.#query(SQL.prunePhantoms, [before, limit])).rowCount ?? 0
    return { users, phantoms }
  }

  async enqueue(message: NewOutboxMessage): Promise<OutboxMessage> {
    checkTime(message.now)
    const [row] = await this.#rows<OutboxRow>(SQL.enqueue, [
      uuidv7(),
      message.userId,
      message.recipient,
      JSON.stringify(message.payload),
      message.status,
      message.reason ?? null,
      message.now,
      message.now,
    ])
    return toMessage(row as OutboxRow)
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<OutboxMessage[]> {
    checkTime(now)
    const rows = await this.#rows<OutboxRow & { due_at: number }>(SQL.claimDue, [
      now,
      now + leaseMs,
      limit,
    ])
    // UPDATE … RETURNING does not keep the CTE's order: restore oldest due first.
    rows.sort((a, b) => a.due_at - b.due_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    return rows.map(({ due_at: _, ...row }) => toMessage(row))
  }

  async markSent(id: string, now: number, providerId: string | null): Promise<void> {
    if (isUuid(id)) await this.#query(SQL.markSent, [now, providerId, id])
  }

  async markRetry(id: string, nextAttemptAt: number, error: string): Promise<void> {
    if (isUuid(id)) await this.#query(SQL.markRetry, [nextAttemptAt, error, id])
  }

  async markFailed(id: string, error: string): Promise<void> {
    if (isUuid(id)) await this.#query(SQL.markFailed, [error, id])
  }

  async markSuppressed(id: string, reason: string): Promise<void> {
    if (isUuid(id)) await this.#query(SQL.markSuppressed, [reason, id])
  }

  async listOutbox(query: OutboxQuery): Promise<OutboxMessage[]> {
    const where: string[] = []
    const params: (string | number)[] = []
    if (query.status !== undefined) {
      params.push(query.status)
      where.push(`status = $${params.length}`)
    }
    if (query.userId !== undefined) {
      if (!isUuid(query.userId)) return []
      params.push(query.userId)
      where.push(`user_id = $${params.length}`)
    }
    if (query.before !== undefined) {
      if (!isUuid(query.before)) throw new TypeError('before must be a message id')
      params.push(query.before)
      where.push(`id < $${params.length}`)
    }
    params.push(query.limit)
    // Built from fixed fragments only; every value is a bound parameter. An operator's listing,
    // off the hot path: left unnamed, so it is planned per call.
    const text = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                  ORDER BY id DESC LIMIT $${params.length}`
    return (await this.#rows<OutboxRow>({ name: '', text }, params)).map(toMessage)
  }

  async countOutbox(): Promise<Record<OutboxStatus, number>> {
    const counts = zeroCounts()
    const rows = await this.#rows<{ status: OutboxStatus; n: number }>(SQL.countOutbox, [])
    for (const { status, n } of rows) counts[status] = n
    return counts
  }

  async pruneOutbox(createdBefore: number): Promise<number> {
    return (await this.#query(SQL.pruneOutbox, [createdBefore])).rowCount ?? 0
  }

  async ping(): Promise<void> {
    await this.#query(SQL.ping, [])
  }

  /** Applies pending migrations now (they otherwise run before the first query). */
  async migrate(): Promise<void> {
    await this.#ensureSchema()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.end()
  }

  /** `work` on one connection inside BEGIN … COMMIT; failures roll back and become Unavailable. */
  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Unavailable('The user store is closed.')
    if (!this.#schemaReady) await this.#ensureSchema()
    let client: pg.PoolClient
    try {
      client = await this.#pool.connect()
    } catch (error) {
      throw unavailable(error)
    }
    // As in migrate(): a checked-out connection's 'error' event must have a listener.
    const ignore = () => undefined
    client.on('error', ignore)
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      client.removeListener('error', ignore)
      client.release()
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      client.removeListener('error', ignore)
      client.release(true)
      throw unavailable(error)
    }
  }

  async #user(statement: Statement, values: unknown[]): Promise<User | undefined> {
    const [row] = await this.#rows<UserRow>(statement, values)
    return row && toUser(row)
  }

  async #rows<R extends pg.QueryResultRow>(statement: Statement, values: unknown[]): Promise<R[]> {
    return (await this.#query<R>(statement, values)).rows
  }

  /** Every query goes through here: schema first, then the pool; failures become Unavailable. */
  async #query<R extends pg.QueryResultRow>(
    statement: Statement,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (this.#closed) throw new Unavailable('The user store is closed.')
    if (!this.#schemaReady) await this.#ensureSchema()
    const config = statement.name === '' ? { text: statement.text } : statement
    try {
      return await this.#pool.query<R>({ ...config, values })
    } catch (error) {
      // The tables are gone (the database was dropped and made again): migrate, and try once
      // more, rather than failing until a restart.
      if ((error as { code?: unknown }).code !== UNDEFINED_TABLE) throw unavailable(error)
      this.#schemaReady = false
      await this.#ensureSchema()
      try {
        return await this.#pool.query<R>({ ...config, values })
      } catch (again) {
        throw unavailable(again)
      }
    }
  }

  /** One attempt at a time; a failed attempt is forgotten, so the next query tries again. */
  #ensureSchema(): Promise<void> {
    if (this.#closed) return Promise.reject(new Unavailable('The user store is closed.'))
    this.#schema ??= migrate(this.#pool).then(
      () => {
        this.#schemaReady = true
        this.#schema = undefined
      },
      (error: unknown) => {
        this.#schema = undefined
        throw unavailable(error)
      },
    )
    return this.#schema
  }
}

/**
 * Applies pending migrations in one transaction, holding an advisory lock so that instances
 * starting together apply each migration once: the others wait, then find nothing to do.
 */
async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect()
  // A checked-out connection reports a server that goes away (restart, terminated backend) as an
  // 'error' event besides failing the query in flight; unheard, that event would end the process.
  const ignore = () => undefined
  client.on('error', ignore)
  try {
    // A migration (waiting for another instance's, or building an index on a big table) may
    // take longer than the limits a request's query has.
    // (pg reads query_timeout per query too; its type declarations do not list it.)
    const run = (text: string, values?: unknown[]) =>
      client.query({ text, values, query_timeout: MIGRATION_TIMEOUT_MS } as pg.QueryConfig)
    await run('BEGIN')
    await run('SET LOCAL statement_timeout = 0')
    await run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await run(schemaMigrationsTable.postgres)
    const { rows } = await run('SELECT version FROM schema_migrations')
    const applied = new Set(rows.map((r: { version: number }) => r.version))
    for (const m of migrations) {
      if (applied.has(m.version)) continue
      await run(m.postgres)
      await run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        Date.now(),
      ])
    }
    await run('COMMIT')
    client.removeListener('error', ignore)
    client.release()
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    client.removeListener('error', ignore)
    // A connection that failed mid-migration is not given back to the pool.
    client.release(true)
    throw error
  }
}

/** A database failure (unreachable, timed out, dropped, refused) is an outage to the caller. */
function unavailable(error: unknown): Unavailable {
  if (error instanceof Unavailable) return error
  return new Unavailable('The user store is unavailable.', { cause: error })
}

function isUuid(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id)
}
