import pg from 'pg'
import t, { type Test } from 'tap'
import { Unavailable } from '../../src/errors.js'
import type { Store } from '../../src/store/index.js'
import { migrations, schemaMigrationsTable } from '../../src/store/migrations/index.js'
import { openPostgresStore } from '../../src/store/postgres/index.js'
import { MIGRATION_LOCK } from '../../src/store/postgres/migrate.js'
import { until } from '../helpers/poll.js'
import { createDatabase } from '../helpers/postgres.js'
import { storeContract } from './contract/index.js'

const T0 = 1_700_000_000_000

// One database for this file's run, dropped at the end; every store gets a schema of its own.
const db = await createDatabase()
t.teardown(() => db.drop())

/**
 * A plain client on a schema as a release with the first `upTo` migrations left it; ended when
 * the test ends.
 */
const migratedTo = async (t: Test, url: string, upTo: number): Promise<pg.Client> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  t.teardown(() => client.end())
  await client.query(schemaMigrationsTable.postgres)
  for (const m of migrations.slice(0, upTo)) {
    await client.query(m.postgres)
    await client.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [m.version, m.name])
  }
  return client
}

/** Runs one query with a plain client: what is in the database, not what the store says. */
const inspect = async <R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  setup?: string,
): Promise<R[]> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    if (setup) await client.query(setup)
    return (await client.query<R>(sql)).rows
  } finally {
    await client.end()
  }
}

/** The plan PostgreSQL makes for `sql` when it may use an index at all. */
const plan = async (url: string, sql: string): Promise<string> =>
  (await inspect<{ 'QUERY PLAN': string }>(url, `EXPLAIN ${sql}`, 'SET enable_seqscan = off'))
    .map((r) => r['QUERY PLAN'])
    .join('\n')

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

storeContract(t, 'PostgresStore', async () => {
  const url = await db.schemaUrl()
  const store = openPostgresStore(url)
  return {
    store,
    cleanup: async () => {},
    another: async () => openPostgresStore(url, { poolSize: 3 }),
    refuse: async (type: string) => {
      await store.migrate()
      await inspect(
        url,
        `CREATE TRIGGER "refuse ${type}" BEFORE INSERT ON audit_events
         FOR EACH ROW WHEN (NEW.type = '${type}') EXECUTE FUNCTION refuse_event()`,
        `CREATE OR REPLACE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql
         AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`,
      )
    },
  }
})

t.test('migrations are recorded and run once, even when instances start together', async (t) => {
  const url = await db.schemaUrl()
  const stores = Array.from({ length: 5 }, () => openPostgresStore(url, { poolSize: 2 }))
  t.teardown(async () => {
    for (const store of stores) await store.close()
  })
  await Promise.all(stores.map((store) => store.migrate()))
  const recorded = await inspect<{ version: number; name: string; applied_at: number }>(
    url,
    'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
  )
  t.equal(recorded.length, migrations.length, 'one row per migration')
  t.match(
    recorded,
    migrations.map((m) => ({ version: m.version, name: m.name, applied_at: /^\d+$/ })),
  )
  const { user } = await (stores[0] as Store).findOrCreate('alice@example.com', T0)
  const later = openPostgresStore(url)
  t.teardown(() => later.close())
  t.same(await later.findById(user.id), user, 'a later instance sees the data')
  t.same(
    await inspect(url, 'SELECT version FROM schema_migrations ORDER BY version'),
    recorded.map((r) => ({ version: r.version })),
    'and runs nothing again',
  )
})

t.test('the expected schema exists and the hot queries use their indexes', async (t) => {
  const url = await db.schemaUrl()
  const store = openPostgresStore(url)
  t.teardown(() => store.close())
  await store.migrate()
  const indexes = await inspect<{ indexname: string }>(
    url,
    "SELECT indexname FROM pg_indexes WHERE tablename IN ('users', 'outbox') AND schemaname = current_schema()",
  )
  t.same(indexes.map((r) => r.indexname).sort(), [
    'outbox_created',
    'outbox_due',
    'outbox_pkey',
    'outbox_provider',
    'outbox_user',
    'users_created_at',
    'users_email_lower',
    'users_pkey',
  ])
  t.match(
    await plan(url, `SELECT * FROM users WHERE lower(email COLLATE "C") = lower('x' COLLATE "C")`),
    /users_email_lower/,
    'findByEmail uses the expression index',
  )
  t.match(
    await plan(url, `SELECT * FROM users WHERE id = '01900000-0000-7000-8000-000000000000'`),
    /users_pkey/,
    'findById uses the primary key',
  )
  t.match(
    await plan(
      url,
      "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= 5 ORDER BY next_attempt_at, id LIMIT 10",
    ),
    /outbox_due/,
    'the worker’s queue uses the partial index',
  )
  t.match(
    await plan(url, "SELECT * FROM outbox WHERE provider_id = 'x' AND kind = 'email' LIMIT 1"),
    /outbox_provider/,
    'a delivery callback finds its email by the provider id index',
  )
})

t.test('counters and times are 64-bit, as in SQLite', async (t) => {
  const url = await db.schemaUrl()
  const store = openPostgresStore(url)
  t.teardown(() => store.close())
  const { user } = await store.findOrCreate('alice@example.com', T0)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query('UPDATE users SET rev = 2147483647, seq = 4294967295 WHERE id = $1', [user.id])
  await client.end()
  t.equal((await store.revoke(user.id, T0))?.rev, 2_147_483_648, 'past the 32-bit signed range')
  const consumed = await store.consume(user.id, { rev: 2_147_483_648, seq: 4_294_967_295 }, T0)
  t.equal(consumed?.seq, 4_294_967_296)
})

t.test('an email queued while unused users are pruned is never lost', async (t) => {
  const url = await db.schemaUrl()
  const store = openPostgresStore(url)
  t.teardown(() => store.close())
  const DAY = 86_400_000
  const idle = (await store.findOrCreate('idle@example.com', T0, 'hosted')).user
  const mailed = (await store.findOrCreate('mailed@example.com', T0, 'hosted')).user
  // Another instance queues an email for `mailed` and has not committed yet: its foreign-key
  // check holds a lock on the user row. A single DELETE would wait for it, then delete the user
  // and, by the cascade, the email it had just queued.
  const other = new pg.Client({ connectionString: url })
  await other.connect()
  t.teardown(() => other.end())
  await other.query('BEGIN')
  await other.query(
    `INSERT INTO outbox (id, user_id, recipient, payload, status, next_attempt_at, created_at)
     VALUES ('01900000-0000-7000-8000-0000000000aa', $1, 'mailed@example.com', '{}', 'pending',
             $2, $2)`,
    [mailed.id, T0 + 40 * DAY],
  )
  t.same(
    await store.pruneUnused(T0 + 31 * DAY, 100),
    { users: 1, phantoms: 0 },
    'the idle user goes; the one being mailed is passed over, without waiting',
  )
  await other.query('COMMIT')
  t.equal(await store.findById(idle.id), undefined)
  t.ok(await store.findById(mailed.id), 'the user being mailed stays')
  t.equal((await store.listOutbox({ userId: mailed.id, limit: 10 })).length, 1, 'and its email')
  t.same(await store.pruneUnused(T0 + 31 * DAY, 100), { users: 0, phantoms: 0 }, 'pending: kept')
})

t.test('migration 4 dates every existing stand-in id by its creation', async (t) => {
  const url = await db.schemaUrl()
  const client = await migratedTo(t, url, 3)
  await client.query(
    "INSERT INTO phantoms VALUES ('old', '01900000-0000-7000-8000-000000000001', $1)",
    [T0],
  )
  const store = openPostgresStore(url)
  t.teardown(() => store.close())
  t.equal(await store.phantomId('old', T0 + 1), '01900000-0000-7000-8000-000000000001')
  const [row] = (await client.query('SELECT created_at, seen_at FROM phantoms')).rows
  t.same(row, { created_at: String(T0), seen_at: String(T0 + 1) })
  t.same(await store.pruneUnused(T0 + 1, 10), { users: 0, phantoms: 0 })
  t.same(await store.pruneUnused(T0 + 2, 10), { users: 0, phantoms: 1 })
})

t.test('migration 6 makes every outbox row from before it an email', async (t) => {
  const url = await db.schemaUrl()
  const client = await migratedTo(t, url, 5)
  await client.query(
    `INSERT INTO outbox (id, user_id, recipient, payload, status, next_attempt_at, created_at)
     VALUES ('01900000-0000-7000-8000-0000000000aa', NULL, 'old@example.com', '{}', 'pending',
             $1, $1)`,
    [T0],
  )
  const store = openPostgresStore(url)
  t.teardown(() => store.close())
  t.match(await store.claimDue(T0, 1000, 10), [{ recipient: 'old@example.com', kind: 'email' }])
})

t.test('migration 7 gives an existing deployment its sessions table', async (t) => {
  const url = await db.schemaUrl()
  const client = await migratedTo(t, url, 6)
  await client.query(
    `INSERT INTO users (id, email, status, rev, seq, created_at)
     VALUES ('01900000-0000-7000-8000-000000000001', 'old@example.com', 'active', 3, 5, $1)`,
    [T0],
  )
  const store = openPostgresStore(url)
  t.teardown(() => store.close())
  const session = { client: 'hosted', expiresAt: T0 + 1000, ip: null, userAgent: null }
  const opened = await store.consumeAndOpen(
    '01900000-0000-7000-8000-000000000001',
    { rev: 3, seq: 5 },
    session,
    T0,
  )
  t.match(opened, { user: { email: 'old@example.com', seq: 6 }, session: { refreshSeq: 0 } })
  const indexes = await inspect<{ indexname: string }>(
    url,
    "SELECT indexname FROM pg_indexes WHERE tablename = 'sessions' AND schemaname = current_schema()",
  )
  t.same(indexes.map((r) => r.indexname).sort(), [
    'sessions_ended_at',
    'sessions_expires_at',
    'sessions_pkey',
    'sessions_user',
  ])
  t.match(
    await plan(url, `SELECT * FROM sessions WHERE id = '01900000-0000-7000-8000-000000000000'`),
    /sessions_pkey/,
    'refresh finds a session by its primary key',
  )
  t.match(
    await plan(
      url,
      `SELECT * FROM sessions WHERE user_id = '01900000-0000-7000-8000-000000000000' AND ended_at IS NULL`,
    ),
    /sessions_user/,
    'ending a user’s sessions finds them by user',
  )
})

t.test('open refuses a URL that is not a PostgreSQL one', async (t) => {
  t.throws(() => openPostgresStore('mysql://localhost/x'), TypeError)
  t.throws(() => openPostgresStore(undefined as unknown as string), TypeError)
})

t.test('a server that does not answer: Unavailable, and no crash', async (t) => {
  // Port 1: nothing listens there, so connecting is refused at once.
  const store = openPostgresStore('postgres://postgres@127.0.0.1:1/latchkey')
  t.teardown(() => store.close())
  for (const call of [
    () => store.ping(),
    () => store.findById('01900000-0000-7000-8000-000000000000'),
    () => store.migrate(),
    () => store.claimDue(T0, 1000, 10),
  ]) {
    const error = await rejection(call())
    t.ok(error instanceof Unavailable, 'Unavailable')
    t.match(error, { code: 'unavailable', cause: { code: 'ECONNREFUSED' } })
  }
})

t.test('a database dropped under the store: Unavailable, then back on its own', async (t) => {
  const victim = await createDatabase('latchkey_victim')
  t.teardown(() => victim.drop())
  const store = openPostgresStore(victim.url, { poolSize: 3 })
  t.teardown(() => store.close())
  const { user } = await store.findOrCreate('alice@example.com', T0)
  // Hold connections open, as a busy instance would.
  await Promise.all(Array.from({ length: 3 }, () => store.findById(user.id)))

  await victim.drop()
  for (const call of [() => store.ping(), () => store.findById(user.id)]) {
    const error = await rejection(call())
    t.ok(error instanceof Unavailable, 'Unavailable while it is gone')
  }

  // Made again, empty: the store migrates it by itself and carries on.
  const pgAdmin = new pg.Client({ connectionString: victim.url.replace(/\/[^/]*$/, '/postgres') })
  await pgAdmin.connect()
  await pgAdmin.query(`CREATE DATABASE ${victim.name}`)
  await pgAdmin.end()
  t.equal(await store.findById(user.id), undefined, 'the new database is empty')
  await t.resolves(store.ping(), 'ready again')
  t.equal((await store.findOrCreate('alice@example.com', T0)).created, true)
})

t.test(
  'a connection lost mid-migration fails that attempt only, and never the process',
  async (t) => {
    const url = await db.schemaUrl()
    // Another instance is migrating: it holds the lock, so this store's migration waits on it.
    const other = new pg.Client({ connectionString: url })
    await other.connect()
    t.teardown(() => other.end())
    await other.query('BEGIN')
    await other.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    const store = openPostgresStore(url)
    t.teardown(() => store.close())
    const attempt = rejection(store.migrate())

    // Then the server drops the waiting connection (a restart, a failover, an operator). Watched
    // from a third connection: within the lock holder's transaction pg_stat_activity stays as
    // it was when the transaction first read it.
    const operator = new pg.Client({ connectionString: url })
    await operator.connect()
    t.teardown(() => operator.end())
    const waiting = `SELECT pid FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'latchkey'
        AND wait_event = 'advisory'`
    await until(
      async () => (await operator.query(waiting)).rows.length > 0,
      'the waiting migration',
      30,
    )
    await operator.query(`SELECT pg_terminate_backend(pid) FROM (${waiting}) w`)
    const error = await attempt
    t.ok(error instanceof Unavailable, 'that attempt fails as Unavailable')

    await other.query('ROLLBACK')
    await t.resolves(store.migrate(), 'the next attempt migrates')
    await t.resolves(store.ping())
  },
)

t.test('the revocation feed never skips a change that commits after a later one', async (t) => {
  // Two instances on one database. A's revoke takes its transaction id first, then waits on a
  // session row another connection holds; B's revoke starts later and commits first. A feed
  // ordered by insertion time or id alone would hand out B's entries, move its cursor past
  // them, and never show A's when A commits. Ours holds B's back until A has ended.
  const url = await db.schemaUrl()
  const a = openPostgresStore(url, { poolSize: 2 })
  const b = openPostgresStore(url, { poolSize: 2 })
  t.teardown(async () => {
    await a.close()
    await b.close()
  })
  const open = async (store: Store, email: string) => {
    const { user } = await store.findOrCreate(email, T0)
    const session = { client: 'backend', expiresAt: T0 + 86_400_000, ip: null, userAgent: null }
    const opened = await store.consumeAndOpen(user.id, user, session, T0)
    return opened as NonNullable<typeof opened>
  }
  const alice = await open(a, 'alice@example.com')
  const bob = await open(b, 'bob@example.com')
  const all = async (store: Store, after: string | undefined) => {
    const page = await store.revocations(after, 100)
    return page
  }
  const start = await all(a, undefined)
  t.strictSame(start.revocations, [])

  const holder = new pg.Client({ connectionString: url })
  await holder.connect()
  t.teardown(() => holder.end())
  await holder.query('BEGIN')
  await holder.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [alice.session.id])
  const revokingAlice = a.revoke(alice.user.id, T0 + 1)
  // A has written its user row and its user.revoked event (its xid is taken), and now waits.
  const waiting = `SELECT 1 FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'`
  await until(async () => (await holder.query(waiting)).rows.length > 0, 'the waiting revoke', 30)
  t.equal((await b.revoke(bob.user.id, T0 + 2))?.rev, 1, 'B commits first')

  const during = await all(b, start.cursor)
  t.strictSame(during.revocations, [], "B's entries wait while A's transaction runs")
  t.equal(during.cursor, start.cursor)

  await holder.query('COMMIT')
  t.equal((await revokingAlice)?.rev, 1, 'then A commits')
  const entries = [
    { userId: alice.user.id, rev: 1, sessionId: null, reason: 'revoked', at: T0 + 1 },
    { userId: alice.user.id, rev: 1, sessionId: alice.session.id, reason: 'revoked', at: T0 + 1 },
    { userId: bob.user.id, rev: 1, sessionId: null, reason: 'revoked', at: T0 + 2 },
    { userId: bob.user.id, rev: 1, sessionId: bob.session.id, reason: 'revoked', at: T0 + 2 },
  ]
  // Other transactions on the server hold the feed back for a moment; none is lost.
  const after = await until(async () => {
    const page = await all(a, during.cursor)
    return page.revocations.length === entries.length && page
  }, 'both revokes in the feed')
  t.strictSame(after.revocations, entries, 'every entry, each once, A before B')
  t.strictSame((await all(b, after.cursor)).revocations, [], 'and nothing twice')
})
