import type Database from 'better-sqlite3'
import { migrations, schemaMigrationsTable } from '../migrations/index.js'

/** Applies pending migrations, all in one IMMEDIATE transaction: all or nothing, one process. */
export function migrate(db: Database.Database): void {
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
