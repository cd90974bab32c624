import { DELIVERY_OUTCOMES } from './outbox.js'

/** An outcome's strength (its place in DELIVERY_OUTCOMES), as SQL over `expression`. */
const rank = (expression: string) =>
  `CASE CAST(${expression} AS TEXT) ${DELIVERY_OUTCOMES.map((o, i) => `WHEN '${o}' THEN ${i}`).join(' ')} END`

/**
 * The delivery feedback's statements, the same text in both dialects (positional parameters are
 * spelled by each store).
 */
export const deliverySql = (p: (n: number) => string) => ({
  byProvider: `SELECT * FROM outbox WHERE provider_id = ${p(1)} AND kind = 'email'
               ORDER BY id LIMIT 1`,
  // The callback's id, once: no row back means it was processed before.
  seen: `INSERT INTO provider_events (id, received_at) VALUES (${p(1)}, ${p(2)})
         ON CONFLICT (id) DO NOTHING RETURNING id`,
  // A weaker report never replaces a stronger one (outbox.ts). The outcome is given twice, as
  // the 1st and the 4th parameter: SQLite's `?` cannot be named twice.
  deliver: `UPDATE outbox SET delivery = ${p(1)}, delivery_at = ${p(2)}
            WHERE id = ${p(3)} AND (delivery IS NULL OR ${rank('delivery')} <= ${rank(p(4))})`,
  owner: `SELECT user_id FROM outbox WHERE id = ${p(1)}`,
  prune: `DELETE FROM provider_events WHERE received_at < ${p(1)}`,
})
