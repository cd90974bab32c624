import type { Suppression, SuppressionReason } from './suppressions.js'

/**
 * The suppression list's statements, the same text in both dialects (positional parameters are
 * spelled by each store). An entry is replaced only by a longer one: a permanent entry stays,
 * and a temporary one is extended, never cut short, whoever writes second.
 */
export const suppressionSql = (p: (n: number) => string) => ({
  upsert: `INSERT INTO suppressions (address, email, reason, created_at, expires_at)
           VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})
           ON CONFLICT (address) DO UPDATE SET email = excluded.email, reason = excluded.reason,
             created_at = excluded.created_at, expires_at = excluded.expires_at
           WHERE suppressions.expires_at IS NOT NULL
             AND (excluded.expires_at IS NULL OR suppressions.expires_at < excluded.expires_at)`,
  active: `SELECT * FROM suppressions
           WHERE address = ${p(1)} AND (expires_at IS NULL OR expires_at > ${p(2)})`,
  // Addresses compare bytewise on both stores (COLLATE "C"), so a page ends where the next begins.
  list: (collate: string) => `SELECT * FROM suppressions
           WHERE (expires_at IS NULL OR expires_at > ${p(1)}) AND address ${collate} > ${p(2)}
           ORDER BY address ${collate} LIMIT ${p(3)}`,
  remove: `DELETE FROM suppressions WHERE address = ${p(1)}`,
})

export interface SuppressionRow {
  address: string
  email: string
  reason: SuppressionReason
  created_at: number
  expires_at: number | null
}

export const toSuppression = (row: SuppressionRow): Suppression => ({
  address: row.address,
  email: row.email,
  reason: row.reason,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
})

export const suppressionValues = (entry: Suppression): unknown[] => [
  entry.address,
  entry.email,
  entry.reason,
  entry.createdAt,
  entry.expiresAt,
]
