import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { Unavailable } from '../../src/errors.js'
import { migrations, schemaMigrationsTable } from '../../src/store/migrations/index.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { tempDir } from '../helpers/temp.js'
import { storeContract } from './contract/index.js'

const T0 = 1_700_000_000_000

/** A database file as a release with the first `upTo` migrations left it; still open. */
const migratedTo = (file: string, upTo: number): Database.Database => {
  const db = new Database(file)
  db.exec(schemaMigrationsTable.sqlite)
  for (const m of migrations.slice(0, upTo)) {
    db.exec(m.sqlite)
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name)
  }
  return db
}

/** Reads the file with a second, plain connection: what is on disk, not what the store says. */
const inspect = <T>(file: string, fn: (db: Database.Database) => T): T => {
  const db = new Database(file, { readonly: true })
  try {
    return fn(db)
  } finally {
    db.close()
  }
}

storeContract(t, 'SqliteStore (file)', async () => {
  // The contract opens and cleans up a store per test itself.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-'))
  const file = path.join(dir, 'users.db')
  return {
    store: openSqliteStore(file),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    another: async () => openSqliteStore(file),
    refuse: async (type: string) => {
      const db = new Database(file)
      try {
        db.exec(`CREATE TRIGGER "refuse ${type}" BEFORE INSERT ON audit_events
                 WHEN NEW.type = '${type}' BEGIN SELECT RAISE(ABORT, 'refused'); END`)
      } finally {
        db.close()
      }
    },
  }
})

storeContract(t, 'SqliteStore (:memory:)', async () => ({
  store: openSqliteStore(':memory:'),
  cleanup: async () => {},
}))

t.test('open creates missing parent directories and turns WAL on', async (t) => {
  const file = path.join(tempDir(t), 'a', 'b', 'latchkey.db')
  const store = openSqliteStore(file)
  t.teardown(() => store.close())
  t.ok(fs.existsSync(file))
  await store.ping()
  t.equal(
    inspect(file, (db) => db.pragma('journal_mode', { simple: true })),
    'wal',
  )
})

t.test('migrations are numbered 1, 2, 3 … and written for both dialects', async (t) => {
  t.same(
    migrations.map((m) => m.version),
    migrations.map((_, i) => i + 1),
  )
  t.equal(new Set(migrations.map((m) => m.name)).size, migrations.length, 'names are distinct')
  for (const m of migrations) {
    t.match(m, { name: /\S/, sqlite: /\S/, postgres: /\S/ }, `migration ${m.version}`)
  }
})

t.test('a file that is not a database is refused, and the handle released', async (t) => {
  const file = path.join(tempDir(t), 'latchkey.db')
  fs.writeFileSync(file, 'not a database, just some text that is long enough '.repeat(100))
  t.throws(() => openSqliteStore(file), { code: 'SQLITE_NOTADB' })
})

t.test('migrations are recorded and run once', async (t) => {
  const file = path.join(tempDir(t), 'latchkey.db')
  const first = openSqliteStore(file)
  const { user } = await first.findOrCreate('alice@example.com', T0)
  await first.consume(user.id, { rev: 0, seq: 0 }, T0 + 1)
  await first.close()

  const recorded = () =>
    inspect(file, (db) =>
      db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all(),
    )
  const before = recorded()
  t.equal(before.length, migrations.length, 'one row per migration')
  t.match(
    before,
    migrations.map((m) => ({ version: m.version, name: m.name, applied_at: Number })),
  )

  const second = openSqliteStore(file)
  t.teardown(() => second.close())
  t.same(recorded(), before, 're-opening runs nothing again')
  t.same(await second.findById(user.id), { ...user, seq: 1, lastLoginAt: T0 + 1 }, 'data kept')
})

t.test('migration 4 dates every existing stand-in id by its creation', async (t) => {
  const file = path.join(tempDir(t), 'latchkey.db')
  const db = migratedTo(file, 3)
  db.prepare("INSERT INTO phantoms VALUES ('old', '01900000-0000-7000-8000-000000000001', ?)").run(
    T0,
  )
  db.close()
  const store = openSqliteStore(file)
  t.teardown(() => store.close())
  t.same(
    inspect(file, (db) => db.prepare('SELECT created_at, seen_at FROM phantoms').all()),
    [{ created_at: T0, seen_at: T0 }],
  )
  t.same(await store.pruneUnused(T0, 10), { users: 0, phantoms: 0 })
  t.same(await store.pruneUnused(T0 + 1, 10), { users: 0, phantoms: 1 })
})

t.test('migration 6 makes every outbox row from before it an email', async (t) => {
  const file = path.join(tempDir(t), 'latchkey.db')
  const db = migratedTo(file, 5)
  db.prepare(
    `INSERT INTO outbox (id, user_id, recipient, payload, status, next_attempt_at, created_at)
     VALUES ('01900000-0000-7000-8000-0000000000aa', NULL, 'old@example.com', '{}', 'pending',
             ?, ?)`,
  ).run(T0, T0)
  db.close()
  const store = openSqliteStore(file)
  t.teardown(() => store.close())
  t.match(await store.claimDue(T0, 1000, 10), [{ recipient: 'old@example.com', kind: 'email' }])
})

t.test('migration 7 gives an existing deployment its sessions table', async (t) => {
  const file = path.join(tempDir(t), 'latchkey.db')
  const db = migratedTo(file, 6)
  db.prepare(
    `INSERT INTO users (id, email, status, rev, seq, created_at)
     VALUES ('01900000-0000-7000-8000-000000000001', 'old@example.com', 'active', 3, 5, ?)`,
  ).run(T0)
  db.close()
  const store = openSqliteStore(file)
  t.teardown(() => store.close())
  const session = { client: 'hosted', expiresAt: T0 + 1000, ip: null, userAgent: null }
  const opened = await store.consumeAndOpen(
    '01900000-0000-7000-8000-000000000001',
    { rev: 3, seq: 5 },
    session,
    T0,
  )
  t.match(opened, { user: { email: 'old@example.com', seq: 6 }, session: { refreshSeq: 0 } })
  const plan = inspect(file, (db) =>
    db
      .prepare('EXPLAIN QUERY PLAN SELECT * FROM sessions WHERE user_id = ? AND ended_at IS NULL')
      .all('x')
      .map((r) => (r as { detail: string }).detail)
      .join('\n'),
  )
  t.match(plan, /sessions_user/, 'ending a user’s sessions finds them by user')
})

t.test('the expected schema exists', async (t) => {
  const file = path.join(tempDir(t), 'latchkey.db')
  await openSqliteStore(file).close()
  const indexes = inspect(file, (db) =>
    db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'users'")
      .pluck()
      .all(),
  )
  t.ok(indexes.includes('users_email_lower'))
  t.ok(indexes.includes('users_created_at'))
  const plan = inspect(file, (db) =>
    db
      .prepare('EXPLAIN QUERY PLAN SELECT * FROM users WHERE lower(email) = lower(?)')
      .all('x')
      .map((r) => (r as { detail: string }).detail)
      .join('\n'),
  )
  t.match(plan, /USING INDEX users_email_lower/, 'findByEmail uses the expression index')
})

t.test('open refuses a path that is not one', async (t) => {
  t.throws(() => openSqliteStore(undefined as unknown as string), TypeError)
})

t.test('ping checks the schema, not only the file', async (t) => {
  const file = path.join(tempDir(t), 'latchkey.db')
  const store = openSqliteStore(file)
  t.teardown(() => store.close())
  await t.resolves(store.ping())
  const other = new Database(file)
  other.exec('DROP TABLE schema_migrations')
  other.close()
  await t.rejects(store.ping(), Unavailable)
})

t.test('database failures surface as Unavailable', async (t) => {
  const file = path.join(tempDir(t), 'latchkey.db')
  const store = openSqliteStore(file)
  t.teardown(() => store.close())
  const { user } = await store.findOrCreate('a@example.com', T0)
  const other = new Database(file)
  other.exec('DROP TABLE users')
  other.close()
  const error = await store.findById(user.id).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(error instanceof Unavailable)
  t.match(error, { code: 'unavailable', cause: { code: 'SQLITE_ERROR' } })
})
