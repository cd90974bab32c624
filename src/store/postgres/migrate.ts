import type pg from 'pg'
import { migrations, schemaMigrationsTable } from '../migrations/index.js'

/** How long one migration statement may take, the advisory lock wait included. */
const MIGRATION_TIMEOUT_MS = 3_600_000

/** Serialises migrations across instances starting at once (a constant of our own). */
export const MIGRATION_LOCK = 0x6c61_7463

/**
 * Applies pending migrations in one transaction, holding an advisory lock so that instances
 * starting together apply each migration once: the others wait, then find nothing to do.
 */
export async function migrate(pool: pg.Pool): Promise<void> {
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
