/**
 * Inserts the rows of `outboxRowsJson` (one JSON text parameter), pending and due at once; in a
 * transaction of its own, a caller's rows commit with its change. `->` keeps each payload as JSON
 * text, a bare string included. Apart from outbox.ts so that audit.ts, which outbox.ts uses, can
 * queue an event's webhooks too.
 */
export const OUTBOX_INSERT_JSON = `INSERT INTO outbox (id, kind, user_id, recipient, payload, status,
                         next_attempt_at, created_at)
  SELECT value ->> '$.id', value ->> '$.kind', value ->> '$.user_id', value ->> '$.recipient',
         value -> '$.payload', 'pending', value ->> '$.at', value ->> '$.at'
  FROM json_each(?)`
