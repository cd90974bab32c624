/**
 * Inserts the rows of `outboxRowsJson`, passed as the parameter `param` (`$1`, `$4` …), pending
 * and due at once. A statement of its own or a CTE of a caller's (`WITH queued AS (…)`), so that
 * a change and the rows it queues commit in one statement.
 *
 * With `events` (CTEs that insert audit events, each `RETURNING *`), the rows are those that
 * announce these events (see EventAnnouncer): a row is inserted only if the event its payload
 * names (`event_id`) was written by the statement, and its `data` is that event as written, in
 * the API's snake_case (events/webhooks.ts webhookData), so that what the statement itself found
 * (the user, the session, a rev) is in it. Apart from outbox.ts so that audit.ts, which
 * outbox.ts uses, can queue an event's webhooks too.
 */
export const outboxInsertJson = (param: string, events?: readonly string[]): string => {
  const insert = `INSERT INTO outbox (id, kind, user_id, recipient, payload, status, next_attempt_at, created_at)`
  const recordset = `jsonb_to_recordset(${param}::jsonb)
     AS r(id uuid, kind text, user_id uuid, recipient text, payload jsonb, at bigint)`
  if (events === undefined) {
    return `${insert}
   SELECT r.id, r.kind, r.user_id, r.recipient, r.payload, 'pending', r.at, r.at
   FROM ${recordset}`
  }
  const written = events.map((cte) => `SELECT * FROM ${cte}`).join(' UNION ALL ')
  return `${insert}
   SELECT r.id, r.kind, r.user_id, r.recipient,
          jsonb_set(r.payload, '{data}', jsonb_build_object(
            'user_id', ev.user_id, 'session_id', ev.session_id, 'actor', ev.actor, 'ip', ev.ip,
            'user_agent', ev.user_agent, 'detail', ev.detail)),
          'pending', r.at, r.at
   FROM ${recordset}
   JOIN (${written}) AS ev ON ev.id = (r.payload ->> 'event_id')::uuid`
}
