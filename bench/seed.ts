/**
 * Bench users, written in bulk into a fresh store: the rows the service's findOrCreate would
 * have written for them (a users row and its user.created audit event), without a million
 * round trips. The schema comes first, through the store's own migrations.
 */
import Database from 'better-sqlite3'
import pg from 'pg'
import { v7 as uuidv7 } from 'uuid'
import { openStore } from '../src/app.js'
import type { Config } from '../src/config/index.js'
import { SYSTEM } from '../src/store/audit.js'
import { EVENT_COLUMNS, eventValues } from '../src/store/rows.js'

export interface BenchUser {
  id: string
  rev: number
  seq: number
}

/** A table's columns as the bulk insert writes them, with their PostgreSQL types. */
interface Table {
  name: string
  columns: string[]
  pgTypes: string[]
}

// As findOrCreate inserts a user created by a backend: active, rev and seq 0, never signed in.
const USERS: Table = {
  name: 'users',
  columns: ['id', 'email', 'status', 'rev', 'seq', 'created_at', 'created_by'],
  pgTypes: ['uuid', 'text', 'text', 'bigint', 'bigint', 'bigint', 'text'],
}
const EVENTS: Table = {
  name: 'audit_events',
  columns: EVENT_COLUMNS.split(', '),
  pgTypes: ['uuid', 'bigint', 'text', 'uuid', 'uuid', 'text', 'text', 'text', 'jsonb'],
}

type Rows = Map<Table, unknown[][]>

const BATCH = 20_000
/**
 * The users are spread over the 80 days before the run, their ids as UUIDv7 of their creation:
 * their user.created events stay within the default AUDIT_RETENTION (90 days), so the server's
 * first housekeeping does not delete most of them while it is being measured.
 */
const SPAN_MS = 80 * 24 * 3600 * 1000

/**
 * Writes `count` users (user0@bench.test …) into the store `config` names, which must be empty,
 * and answers `sample` of them, drawn at random across the whole store and in random order, so
 * requests reach all of its indexes rather than one warm corner.
 */
export async function seedUsers(
  config: Config,
  count: number,
  sample: number,
): Promise<BenchUser[]> {
  const store = await openStore(config)
  try {
    await store.migrate()
  } finally {
    await store.close()
  }
  const chosen = pick(count, sample)
  const picked: BenchUser[] = []
  const batches = function* (): Generator<Rows> {
    const start = Date.now() - SPAN_MS
    for (let first = 0; first < count; first += BATCH) {
      const users: unknown[][] = []
      const events: unknown[][] = []
      for (let i = first; i < Math.min(count, first + BATCH); i++) {
        const createdAt = start + Math.floor((i * SPAN_MS) / count)
        const id = uuidv7({ msecs: createdAt })
        users.push([id, `user${i}@bench.test`, 'active', 0, 0, createdAt, 'api'])
        const event = eventValues(createdAt, 'user.created', id, null, SYSTEM, {
          created_by: 'api',
        })
        // The event's own id, like the user's, dates from its creation.
        event[0] = uuidv7({ msecs: createdAt })
        events.push(event)
        if (chosen[i]) picked.push({ id, rev: 0, seq: 0 })
      }
      yield new Map([
        [USERS, users],
        [EVENTS, events],
      ])
    }
  }
  if (config.database.kind === 'sqlite') writeSqlite(config.database.file, batches())
  else await writePostgres(config.database.url, batches())
  return shuffle(picked)
}

/** One transaction, one prepared statement per table. */
function writeSqlite(file: string, batches: Iterable<Rows>): void {
  const db = new Database(file)
  try {
    // A rollback journal holds only the old content of the pages a transaction changes, and new
    // pages have none: far less writing than a write-ahead log of every new page. WAL again
    // afterwards, as the service keeps the file.
    db.pragma('journal_mode = DELETE')
    db.pragma('synchronous = OFF')
    db.pragma('cache_size = -131072')
    const inserts = new Map(
      [USERS, EVENTS].map((table) => {
        const marks = table.columns.map(() => '?').join(', ')
        const sql = `INSERT INTO ${table.name} (${table.columns.join(', ')}) VALUES (${marks})`
        return [table, db.prepare(sql)] as const
      }),
    )
    db.transaction(() => {
      for (const batch of batches) {
        for (const [table, rows] of batch) {
          const insert = inserts.get(table) as Database.Statement
          for (const row of rows) insert.run(...row)
        }
      }
    })()
    db.pragma('journal_mode = WAL')
  } finally {
    db.close()
  }
}

/** One transaction, one INSERT … SELECT FROM unnest(column arrays) per table and batch. */
async function writePostgres(url: string, batches: Iterable<Rows>): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('BEGIN')
    await client.query('SET LOCAL synchronous_commit = off')
    for (const batch of batches) {
      for (const [table, rows] of batch) {
        const arrays = table.pgTypes.map((type, i) => `$${i + 1}::${type}[]`).join(', ')
        const columns = table.columns.map((_, i) => rows.map((row) => row[i]))
        await client.query(
          `INSERT INTO ${table.name} (${table.columns.join(', ')}) SELECT * FROM unnest(${arrays})`,
          columns,
        )
      }
    }
    await client.query('COMMIT')
    // What autovacuum would have done to tables that grew over a year: statistics for the
    // planner and a visibility map, so no vacuum starts in the middle of a timed run.
    await client.query(`VACUUM ANALYZE ${USERS.name}, ${EVENTS.name}`)
  } finally {
    await client.end()
  }
}

/** Which of `count` indexes are in a random sample of `size`; all when size ≥ count. */
function pick(count: number, size: number): Uint8Array {
  const chosen = new Uint8Array(count)
  if (size >= count) return chosen.fill(1)
  for (let left = size; left > 0; ) {
    const i = Math.floor(Math.random() * count)
    if (chosen[i] === 1) continue
    chosen[i] = 1
    left--
  }
  return chosen
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}
