import {
  type SuppressionRow,
  suppressionSql,
  suppressionValues,
  toSuppression,
} from '../suppression-sql.js'
import type { SuppressionStore } from '../suppressions.js'
import type { Db, Guard } from './connection.js'

const SQL = suppressionSql(() => '?')

/** The upsert, for a caller that holds a transaction (a report). */
export function suppressionWriter(db: Db) {
  return db.prepare<unknown[]>(SQL.upsert)
}

/** The suppressions table; the twin of postgres/suppressions.ts. Arguments are checked by compose.ts. */
export function sqliteSuppressions(db: Db, guard: Guard): SuppressionStore {
  const upsert = suppressionWriter(db)
  const active = db.prepare<[string, number], SuppressionRow>(SQL.active)
  // SQLite compares text bytewise (BINARY) unless told otherwise.
  const list = db.prepare<[number, string, number], SuppressionRow>(SQL.list(''))
  const remove = db.prepare<[string]>(SQL.remove)
  return {
    async listSuppressions({ now, after, limit }) {
      return guard(() => list.all(now, after ?? '', limit)).map(toSuppression)
    },
    removeSuppression: async (address) => guard(() => remove.run(address)).changes > 0,
    async suppress(entry) {
      guard(() => upsert.run(...suppressionValues(entry)))
    },
    async activeSuppression(address, now) {
      const row = guard(() => active.get(address, now))
      return row && toSuppression(row)
    },
  }
}
