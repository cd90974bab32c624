import { v7 as uuidv7 } from 'uuid'
import type { Prunable } from '../compose.js'
import type { PhantomStore } from '../phantoms.js'
import type { Connection } from './connection.js'

const SQL = {
  // Insert-or-read in one statement; a read records when the address was last asked for.
  phantom: {
    name: 'lk_phantom',
    text: `INSERT INTO phantoms (key, id, created_at, seen_at) VALUES ($1, $2, $3, $3)
           ON CONFLICT (key) DO UPDATE SET seen_at = GREATEST(phantoms.seen_at, excluded.seen_at)
           RETURNING id`,
  },
  // Longest unused first. seen_at is compared again on the row itself, so a phantom asked for
  // while this runs stays.
  prune: {
    name: 'lk_prune_phantoms',
    text: `DELETE FROM phantoms p
           WHERE p.seen_at < $1
             AND p.key IN (SELECT key FROM phantoms WHERE seen_at < $1 ORDER BY seen_at LIMIT $2)`,
  },
} as const

/** The phantoms table; the twin of sqlite/phantoms.ts. Arguments are checked by compose.ts. */
export function postgresPhantoms(db: Connection): PhantomStore & Prunable {
  return {
    async phantomId(key, now) {
      const [row] = await db.rows<{ id: string }>(SQL.phantom, [key, uuidv7(), now])
      return (row as { id: string }).id
    },
    pruneUnused: async (before, limit) =>
      (await db.query(SQL.prune, [before, limit])).rowCount ?? 0,
  }
}
