import { v7 as uuidv7 } from 'uuid'
import type { Prunable } from '../compose.js'
import type { PhantomStore } from '../phantoms.js'
import type { Db, Guard } from './connection.js'

/** The phantoms table; the twin of postgres/phantoms.ts. Arguments are checked by compose.ts. */
export function sqlitePhantoms(db: Db, guard: Guard): PhantomStore & Prunable {
  // Insert-or-read in one statement, the same work as findOrCreate for a new user; a read
  // records when the address was last asked for.
  const phantom = db.prepare<[string, string, number, number], { id: string }>(
    `INSERT INTO phantoms (key, id, created_at, seen_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET seen_at = max(seen_at, excluded.seen_at)
     RETURNING id`,
  )
  // Longest unused first, as in PostgreSQL, so a batch takes the same ids on either store.
  const prune = db.prepare<{ before: number; limit: number }>(
    `DELETE FROM phantoms WHERE key IN (
       SELECT key FROM phantoms WHERE seen_at < :before ORDER BY seen_at LIMIT :limit
     )`,
  )
  return {
    async phantomId(key, now) {
      const row = guard(() => phantom.get(key, uuidv7(), now, now))
      return (row as { id: string }).id
    },
    pruneUnused: async (before, limit) => guard(() => prune.run({ before, limit })).changes,
  }
}
