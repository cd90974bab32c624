import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { Unavailable } from '../../errors.js'
import { migrate } from './migrate.js'

export type Db = Database.Database

/** Runs one call against the database, failures mapped (see guarded). */
export type Guard = <T>(fn: () => T) => T

/**
 * Opens (creating when missing) the database file and applies pending migrations. One
 * connection per process: better-sqlite3 is synchronous, so each call runs to completion before
 * the next starts.
 */
export function openDatabase(file: string): Db {
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
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/**
 * Database failures (busy past the timeout, I/O, a schema gone) and calls after close become
 * Unavailable, as PostgreSQL's do; the cause is for the log.
 */
export function guarded(db: Db): Guard {
  return (fn) => {
    if (!db.open) throw new Unavailable('The user store is closed.')
    try {
      return fn()
    } catch (error) {
      if (error instanceof Database.SqliteError) {
        throw new Unavailable('The user store is unavailable.', { cause: error })
      }
      throw error
    }
  }
}
