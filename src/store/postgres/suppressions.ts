import {
  type SuppressionRow,
  suppressionSql,
  suppressionValues,
  toSuppression,
} from '../suppression-sql.js'
import type { SuppressionStore } from '../suppressions.js'
import type { Connection } from './connection.js'

const sql = suppressionSql((n) => `$${n}`)
const SQL = {
  upsert: { name: 'lk_suppress', text: sql.upsert },
  active: { name: 'lk_active_suppression', text: sql.active },
  list: { name: 'lk_list_suppressions', text: sql.list('COLLATE "C"') },
  remove: { name: 'lk_remove_suppression', text: sql.remove },
} as const

/** The upsert of a suppression entry, for the statements that suppress in their own transaction. */
export const SUPPRESS = SQL.upsert

/** The suppressions table; the twin of sqlite/suppressions.ts. Arguments are checked by compose.ts. */
export function postgresSuppressions(db: Connection): SuppressionStore {
  return {
    async listSuppressions({ now, after, limit }) {
      return (await db.rows<SuppressionRow>(SQL.list, [now, after ?? '', limit])).map(toSuppression)
    },
    removeSuppression: async (address) =>
      ((await db.query(SQL.remove, [address])).rowCount ?? 0) > 0,
    async suppress(entry) {
      await db.query(SQL.upsert, suppressionValues(entry))
    },
    async activeSuppression(address, now) {
      const [row] = await db.rows<SuppressionRow>(SQL.active, [address, now])
      return row && toSuppression(row)
    },
  }
}
