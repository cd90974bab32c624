import type pg from 'pg'
import { v7 as uuidv7 } from 'uuid'
import type { AuditContext, AuditStore } from '../audit.js'
import { FEED_TYPES } from '../audit.js'
import { badCursor, decodeFeedCursor, encodeFeedCursor } from '../checks.js'
import { listEventsSql } from '../listing.js'
import {
  type AuditRow,
  EVENT_COLUMNS,
  eventValues,
  type FeedRow,
  toEvent,
  toRevocation,
} from '../rows.js'
import type { EndReason } from '../sessions.js'
import type { Connection } from './connection.js'

const FEED = `type IN (${FEED_TYPES.map((type) => `'${type}'`).join(', ')})`

/**
 * An event inserted from the rows of a CTE, in the statement of the change it records: `from`
 * names the CTE (and any filter), `userId`, `sessionId` and `detail` are SQL over it. The event's
 * id is parameter `$id`, and the context the three from `$context` on (see eventParams); the
 * time is `$at`, `$1` unless told.
 */
export const eventFrom = (
  type: string,
  params: { id: number; context: number; at?: number },
  from: string,
  userId: string,
  sessionId: string,
  detail: string,
): string => {
  const [actor, ip, userAgent] = [0, 1, 2].map((i) => `$${params.context + i}`)
  return `SELECT $${params.id}::uuid, $${params.at ?? 1}::bigint, '${type}', ${userId}, ${sessionId},
                 ${actor}::text, ${ip}::text, ${userAgent}::text, ${detail} FROM ${from}`
}

/** The parameters of one event whose id is `$first`, its context following. */
export const oneEvent = (first: number) => ({ id: first, context: first + 1 })

/** The parameters eventFrom reads: a fresh UUIDv7 (one per event), then the context. */
export const eventParams = (context: AuditContext, events = 1): unknown[] => [
  ...Array.from({ length: events }, () => uuidv7()),
  context.actor,
  context.ip ?? null,
  context.userAgent ?? null,
]

const SQL = {
  insert: {
    name: 'lk_record_event',
    text: `INSERT INTO audit_events (${EVENT_COLUMNS})
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) RETURNING *`,
  },
  // The sessions ended with the user's rev: the events' detail.
  endAll: {
    name: 'lk_end_user_sessions',
    text: `WITH s AS (
             UPDATE sessions SET ended_at = $1, end_reason = $2
             WHERE user_id = $3 AND ended_at IS NULL
             RETURNING id, user_id
           )
           SELECT s.id, u.rev FROM s JOIN users u ON u.id = s.user_id ORDER BY s.id`,
  },
  recordEnded: {
    name: 'lk_record_sessions_ended',
    text: `INSERT INTO audit_events (${EVENT_COLUMNS})
           SELECT e.id, $2, 'session.ended', $3, e.session_id, $5, $6, $7, $8::jsonb
           FROM unnest($1::uuid[], $4::uuid[]) AS e (id, session_id)`,
  },
  recordDeleted: {
    name: 'lk_record_users_deleted',
    text: `INSERT INTO audit_events (${EVENT_COLUMNS})
           SELECT e.id, $2, 'user.deleted', e.user_id, NULL, 'system', NULL, NULL,
                  jsonb_build_object('reason', 'deleted', 'rev', e.rev, 'unused', true)
           FROM unnest($1::uuid[], $3::uuid[], $4::bigint[]) AS e (id, user_id, rev)`,
  },
  prune: {
    name: 'lk_prune_events',
    text: `DELETE FROM audit_events WHERE at < $1 AND (NOT ${FEED} OR at < $2)`,
  },
  // Transaction ids are handed out when a transaction first writes, not when it commits, so a
  // transaction that started earlier may commit later with a smaller xid. Every transaction
  // below the snapshot's xmin has ended: rows with such an xid are all visible now or never
  // will be. Handing out only those, in (xid, id) order, means an entry can never appear later
  // behind a cursor already handed out, on any instance and across restarts. A long
  // transaction holds the feed back (never loses an entry). Ids within one transaction come
  // from one process's monotonic UUIDv7s, so (xid, id) is the order they were written in.
  feed: {
    name: 'lk_revocation_feed',
    text: `SELECT xid::text AS xid, id, type, user_id, session_id, at, detail FROM audit_events
           WHERE ${FEED} AND (xid, id) > ($1::xid8, $2::uuid)
             AND xid < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY xid, id LIMIT $3`,
  },
} as const

const ZERO_ID = '00000000-0000-0000-0000-000000000000'

/**
 * Ends every open session of a user and records a session.ended event for each, with the user's
 * rev as the change left it, on `client` inside the caller's transaction. Resolves to how many
 * ended.
 */
export async function endUserSessions(
  client: pg.PoolClient,
  userId: string,
  reason: EndReason,
  now: number,
  context: AuditContext,
): Promise<number> {
  const ended = (
    await client.query<{ id: string; rev: number }>({
      ...SQL.endAll,
      values: [now, reason, userId],
    })
  ).rows
  const [first] = ended
  if (!first) return 0
  const ids = ended.map(() => uuidv7())
  const detail = JSON.stringify({ reason, rev: first.rev })
  const { actor, ip = null, userAgent = null } = context
  const values = [ids, now, userId, ended.map((row) => row.id), actor, ip, userAgent, detail]
  await client.query({ ...SQL.recordEnded, values })
  return ended.length
}

/** Records users the housekeeping deleted as unused (the system's doing), on `client`. */
export async function recordDeleted(
  client: pg.PoolClient,
  users: readonly { id: string; rev: number }[],
  now: number,
): Promise<void> {
  if (users.length === 0) return
  const values = [
    users.map(() => uuidv7()),
    now,
    users.map((user) => user.id),
    users.map((user) => user.rev),
  ]
  await client.query({ ...SQL.recordDeleted, values })
}

/** Writes one event on `client`, inside the caller's transaction. */
export async function recordOn(
  client: pg.PoolClient,
  ...args: Parameters<typeof eventValues>
): Promise<void> {
  await client.query({ ...SQL.insert, values: eventValues(...args) })
}

/** The audit_events table; the twin of sqlite/audit.ts. Arguments are checked by compose.ts. */
export function postgresAudit(db: Connection): AuditStore {
  return {
    async recordEvent(event, context, now) {
      const values = eventValues(
        now,
        event.type,
        event.userId ?? null,
        event.sessionId ?? null,
        context,
        event.detail,
      )
      const [row] = await db.rows<AuditRow & { xid: unknown }>(SQL.insert, values)
      return toEvent(row as AuditRow)
    },
    async listEvents(query) {
      // Left unnamed, so it is planned per call.
      const { text, values } = listEventsSql(query, (n) => `$${n}`)
      return (await db.rows<AuditRow>({ name: '', text }, values)).map(toEvent)
    },
    pruneEvents: async (before, feedBefore) =>
      (await db.query(SQL.prune, [before, feedBefore])).rowCount ?? 0,
    async revocations(after, limit) {
      const position = after === undefined ? ['0', ZERO_ID] : decodeFeedCursor(after)
      const [xid, id] = position ?? []
      if (position?.length !== 2 || typeof xid !== 'string' || typeof id !== 'string') {
        throw badCursor()
      }
      const rows = await db.rows<FeedRow & { xid: string; id: string }>(SQL.feed, [xid, id, limit])
      const last = rows.at(-1)
      return {
        revocations: rows.map(toRevocation),
        cursor: encodeFeedCursor(last ? [last.xid, last.id] : [xid, id]),
      }
    },
  }
}
