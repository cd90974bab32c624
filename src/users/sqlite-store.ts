import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
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

/** SQLite keeps the payload as JSON text. */
type SqliteOutboxRow = OutboxRow<string>
const fromRow = (row: SqliteOutboxRow): OutboxMessage =>
  toMessage({ ...row, payload: JSON.parse(row.payload) })

/**
 * The embedded store: one SQLite file, one connection per process. better-sqlite3 is synchronous,
 * so each call runs to completion before the next starts; the compare-and-increment in `consume`
 * is what keeps one-time tokens single-use across processes sharing the file as well.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database
  // Every statement is compiled once here: verify runs findById and consume on every request.
  readonly #findById: Database.Statement<[string], UserRow>
  readonly #findByEmail: Database.Statement<[string], UserRow>
  readonly #insert: Database.Statement<[string, string, number, UserOrigin], UserRow>
  readonly #list: Database.Statement<[number], UserRow>
  readonly #consume: Database.Statement<[number, string, number, number], UserRow>
  readonly #touchLogin: Database.Statement<[number, string, number], UserRow>
  readonly #revoke: Database.Statement<[string], UserRow>
  readonly #setStatus: Database.Statement<[UserStatus, string], UserRow>
  readonly #delete: Database.Statement<[string]>
  readonly #ping: Database.Statement<[], { ok: number }>
  readonly #findOrCreate: (
    email: string,
    now: number,
    createdBy: UserOrigin,
  ) => { row: UserRow; created: boolean }
  readonly #phantom: Database.Statement<[string, string, number, number], { id: string }>
  readonly #pruneUsers: Database.Statement<{ before: number; limit: number }>
  readonly #prunePhantoms: Database.Statement<{ before: number; limit: number }>
  readonly #enqueue: Database.Statement<unknown[], SqliteOutboxRow>
  readonly #claimDue: Database.Transaction<
    (now: number, leasedUntil: number, limit: number) => SqliteOutboxRow[]
  >
  readonly #markSent: Database.Statement<[number, string | null, string]>
  readonly #markRetry: Database.Statement<[number, string, string]>
  readonly #markFailed: Database.Statement<[string, string]>
  readonly #markSuppressed: Database.Statement<[string, string]>
  readonly #countOutbox: Database.Statement<[], { status: OutboxStatus; n: number }>
  readonly #pruneOutbox: Database.Statement<[number]>

  /** Opens (creating when missing) the database file and applies pending migrations. */
  static open(file: string): SqliteStore {
    if (typeof file !== 'string') throw new TypeError('file must be a path or ":memory:"')
    if (file !== ':memory:' && file !== '') {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
    }
    const db = new Database(file)
    try {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.pragma('busy_timeout = 5000')
      db.pragma('foreign_keys = ON')
      migrate(db)
      return new SqliteStore(db)
    } catch (error) {
      db.close()
      throw error
    }
  }

  private constructor(db: Database.Database) {
    this.#db = db
    this.#findById = db.prepare('SELECT * FROM users WHERE id = ?')
    this.#findByEmail = db.prepare('SELECT * FROM users WHERE lower(email) = lower(?)')
    this.#insert = db.prepare(
      `INSERT INTO users (id, email, status, rev, seq, created_at, created_by)
       VALUES (?, ?, 'active', 0, 0, ?, ?)
       ON CONFLICT (lower(email)) DO NOTHING
       RETURNING *`,
    )
    this.#list = db.prepare('SELECT * FROM users ORDER BY created_at DESC, id DESC LIMIT ?')
    // Single-use without a token table: the token's seq is compared and incremented in one
    // statement, under SQLite's write lock. A read-then-write would let two concurrent requests
    // both see the old seq and both sign in; here exactly one UPDATE matches, the rest change
    // nothing. rev and status are in the same WHERE so a revoke or disable that lands between
    // the lookup and this update still wins.
    this.#consume = db.prepare(
      `UPDATE users SET seq = seq + 1, last_login_at = ?
       WHERE id = ? AND seq = ? AND rev = ? AND status = 'active'
       RETURNING *`,
    )
    // Reusable links do not move seq, but the same reasoning applies to rev and status: checked
    // in the statement that records the login, not in an earlier read.
    this.#touchLogin = db.prepare(
      `UPDATE users SET last_login_at = ?
       WHERE id = ? AND rev = ? AND status = 'active'
       RETURNING *`,
    )
    this.#revoke = db.prepare('UPDATE users SET rev = rev + 1 WHERE id = ? RETURNING *')
    this.#setStatus = db.prepare('UPDATE users SET status = ? WHERE id = ? RETURNING *')
    this.#delete = db.prepare('DELETE FROM users WHERE id = ?')
    this.#ping = db.prepare('SELECT 1 AS ok')

    // Insert-or-read in one statement, the same work as findOrCreate for a new user; a read
    // records when the address was last asked for.
    this.#phantom = db.prepare(
      `INSERT INTO phantoms (key, id, created_at, seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET seen_at = max(seen_at, excluded.seen_at)
       RETURNING id`,
    )
    // One statement under the write lock: an email queued for the user by another process either
    // committed first (and the user stays) or waits and then fails its foreign key. Deleting the
    // user cascades only to rows older than `before` and finished, which would be pruned anyway.
    this.#pruneUsers = db.prepare(
      `DELETE FROM users WHERE id IN (
         SELECT u.id FROM users u
         WHERE u.created_by = 'hosted' AND u.status = 'active' AND u.last_login_at IS NULL
           AND u.created_at < :before
           AND NOT EXISTS (
             SELECT 1 FROM outbox o
             WHERE o.user_id = u.id AND (o.status = 'pending' OR o.created_at >= :before)
           )
         LIMIT :limit
       )`,
    )
    this.#prunePhantoms = db.prepare(
      `DELETE FROM phantoms WHERE key IN (
         SELECT key FROM phantoms WHERE seen_at < :before LIMIT :limit
       )`,
    )
    this.#enqueue = db.prepare(
      `INSERT INTO outbox (id, user_id, recipient, payload, status, reason, next_attempt_at,
                           created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING *`,
    )
    // Picking the due rows and leasing them happen in one IMMEDIATE transaction: under SQLite's
    // write lock no other process can pick the same rows in between, and a row whose worker dies
    // comes due again when the lease runs out. Rows come back in the order they fell due.
    const dueIds = db
      .prepare<[number, number], string>(
        `SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT ?`,
      )
      .pluck()
    const lease = db.prepare<[number, string], SqliteOutboxRow>(
      'UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ? RETURNING *',
    )
    this.#claimDue = db.transaction((now: number, leasedUntil: number, limit: number) =>
      dueIds.all(now, limit).map((id) => lease.get(leasedUntil, id) as SqliteOutboxRow),
    )
    // Results land only on rows still pending: a late answer never reopens a finished message.
    this.#markSent = db.prepare(
      `UPDATE outbox SET status = 'sent', sent_at = ?, provider_id = ?, last_error = NULL
       WHERE id = ? AND status = 'pending'`,
    )
    this.#markRetry = db.prepare(
      "UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'",
    )
    this.#markFailed = db.prepare(
      "UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ? AND status = 'pending'",
    )
    this.#markSuppressed = db.prepare(
      "UPDATE outbox SET status = 'suppressed', reason = ? WHERE id = ? AND status = 'pending'",
    )
    this.#countOutbox = db.prepare('SELECT status, count(*) AS n FROM outbox GROUP BY status')
    this.#pruneOutbox = db.prepare(
      "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?",
    )

    // The insert takes the write lock, so the lookup that follows a conflict sees the row that
    // caused it even when another process inserted it a moment ago.
    this.#findOrCreate = db.transaction((email: string, now: number, createdBy: UserOrigin) => {
      const inserted = this.#insert.get(uuidv7(), email, now, createdBy)
      if (inserted) return { row: inserted, created: true }
      const existing = this.#findByEmail.get(email)
      if (!existing) throw new Error('user insert conflicted but no user has this email')
      return { row: existing, created: false }
    })
  }

  async findById(id: string): Promise<User | undefined> {
    const row = guard(() => this.#findById.get(id))
    return row && toUser(row)
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const row = guard(() => this.#findByEmail.get(email))
    return row && toUser(row)
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
    const { row, created } = guard(() => this.#findOrCreate(email, now, createdBy))
    return { user: toUser(row), created }
  }

  async list(options: { limit: number }): Promise<User[]> {
    const limit = options?.limit
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new TypeError('limit must be a positive integer')
    }
    return guard(() => this.#list.all(limit)).map(toUser)
  }

  async consume(id: string, expected: Expected, now: number): Promise<User | undefined> {
    checkTime(now)
    const row = guard(() => this.#consume.get(now, id, expected.seq, expected.rev))
    return row && toUser(row)
  }

  async touchLogin(id: string, rev: number, now: number): Promise<User | undefined> {
    checkTime(now)
    const row = guard(() => this.#touchLogin.get(now, id, rev))
    return row && toUser(row)
  }

  async revoke(id: string): Promise<User | undefined> {
    const row = guard(() => this.#revoke.get(id))
    return row && toUser(row)
  }

  async setStatus(id: string, status: UserStatus): Promise<User | undefined> {
    if (!isUserStatus(status)) throw new TypeError('status must be "active" or "disabled"')
    const row = guard(() => this.#setStatus.get(status, id))
    return row && toUser(row)
  }

  async delete(id: string): Promise<boolean> {
    return guard(() => this.#delete.run(id)).changes > 0
  }

  async phantomId(key: string, now: number): Promise<string> {
    checkTime(now)
    const row = guard(() => this.#phantom.get(key, uuidv7(), now, now))
    return (row as { id: string }).id
  }

  async pruneUnused(before: number, limit: number): Promise<{ users: number; phantoms: number }> {
    checkTime(before)
    checkLimit(limit)
    return {
      users: guard(() => this.#pruneUsers.run({ before, limit })).changes,
      phantoms: guard(() => this.#prunePhantoms.run({ before, limit })).changes,
    }
  }

  async enqueue(message: NewOutboxMessage): Promise<OutboxMessage> {
    checkTime(message.now)
    const row = guard(() =>
      this.#enqueue.get(
        uuidv7(),
        message.userId,
        message.recipient,
        JSON.stringify(message.payload),
        message.status,
        message.reason ?? null,
        message.now,
        message.now,
      ),
    )
    return fromRow(row as SqliteOutboxRow)
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<OutboxMessage[]> {
    checkTime(now)
    return guard(() => this.#claimDue.immediate(now, now + leaseMs, limit)).map(fromRow)
  }

  async markSent(id: string, now: number, providerId: string | null): Promise<void> {
    guard(() => this.#markSent.run(now, providerId, id))
  }

  async markRetry(id: string, nextAttemptAt: number, error: string): Promise<void> {
    guard(() => this.#markRetry.run(nextAttemptAt, error, id))
  }

  async markFailed(id: string, error: string): Promise<void> {
    guard(() => this.#markFailed.run(error, id))
  }

  async markSuppressed(id: string, reason: string): Promise<void> {
    guard(() => this.#markSuppressed.run(reason, id))
  }

  async listOutbox(query: OutboxQuery): Promise<OutboxMessage[]> {
    const where: string[] = []
    const params: (string | number)[] = []
    if (query.status !== undefined) {
      where.push('status = ?')
      params.push(query.status)
    }
    if (query.userId !== undefined) {
      where.push('user_id = ?')
      params.push(query.userId)
    }
    if (query.before !== undefined) {
      where.push('id < ?')
      params.push(query.before)
    }
    // Built from fixed fragments only; every value is a bound parameter. An operator's listing,
    // off the hot path, so compiling it per call is fine.
    const sql = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY id DESC LIMIT ?`
    return guard(() =>
      this.#db.prepare<unknown[], SqliteOutboxRow>(sql).all(...params, query.limit),
    ).map(fromRow)
  }

  async countOutbox(): Promise<Record<OutboxStatus, number>> {
    const counts = zeroCounts()
    for (const { status, n } of guard(() => this.#countOutbox.all())) counts[status] = n
    return counts
  }

  async pruneOutbox(createdBefore: number): Promise<number> {
    return guard(() => this.#pruneOutbox.run(createdBefore)).changes
  }

  async ping(): Promise<void> {
    guard(() => this.#ping.get())
  }

  /** Opening the file already applied them; this checks again (another process may be newer). */
  async migrate(): Promise<void> {
    guard(() => migrate(this.#db))
  }

  async close(): Promise<void> {
    // better-sqlite3 makes a second close a no-op, which shutdown paths rely on.
    this.#db.close()
  }
}

/** Applies pending migrations, all in one IMMEDIATE transaction: all or nothing, one process. */
function migrate(db: Database.Database): void {
  // IMMEDIATE takes the write lock before reading what has been applied, so two processes
  // opening a new file at once cannot both run migration 1.
  db.transaction(() => {
    db.exec(schemaMigrationsTable.sqlite)
    const applied = new Set(
      db
        .prepare<[], { version: number }>('SELECT version FROM schema_migrations')
        .all()
        .map((r) => r.version),
    )
    const record = db.prepare<[number, string, number]>(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    )
    for (const m of migrations) {
      if (applied.has(m.version)) continue
      db.exec(m.sqlite)
      record.run(m.version, m.name, Date.now())
    }
  }).immediate()
}

/** Database failures (busy past the timeout, I/O) become Unavailable; the cause is for the log. */
function guard<T>(fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    if (error instanceof Database.SqliteError) {
      throw new Unavailable('The user store is unavailable.', { cause: error })
    }
    throw error
  }
}
