import type pg from 'pg'
import { v7 as uuidv7 } from 'uuid'
import type { EventAnnouncer } from '../announce.js'
import type { AuditContext, AuditStore, AuditType } from '../audit.js'
import { FEED_TYPES, SYSTEM } from '../audit.js'
import { badCursor, decodeFeedCursor, encodeFeedCursor, isUuid } from '../checks.js'
import { listEventsSql } from '../listing.js'
import type { NewOutboxMessage } from '../outbox.js'
import {
  type AuditRow,
  EVENT_COLUMNS,
  eventValues,
  type FeedRow,
  outboxRowsJson,
  toEvent,
  toRevocation,
} from '../rows.js'
import type { EndReason } from '../sessions.js'
import type { Connection, Statement } from './connection.js'
import { outboxInsertJson } from './outbox-insert.js'

const XID8_MAX = 2n ** 64n - 1n

const FEED = `type IN (${FEED_TYPES.map((type) => `'${type}'`).join(', ')})`

/**
 * An event inserted from the rows of a CTE, in the statement of the change it records: `from`
 * names the CTE (and any filter), `userId`, `sessionId` and `detail` are SQL over it. The event's
 * id is parameter `$id`, and the context the three from `$context` on (see Announcements.params); the
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

/**
 * The detail of a link.verified event, as SQL: whether the token was one-time, and its expiry
 * from parameter `$expiresAt` (left out when null, as the SQLite store leaves it out).
 */
export const verifiedDetail = (oneTime: boolean, expiresAt: number): string =>
  `jsonb_strip_nulls(jsonb_build_object('one_time', ${oneTime}, 'expires_at', $${expiresAt}::bigint))`

/** The parameters of one event whose id is `$first`, its context following. */
export const oneEvent = (first: number) => ({ id: first, context: first + 1 })

/**
 * The CTE `w` that queues the webhooks of the events the CTEs `events` wrote (each `RETURNING
 * *`): parameter `$param` holds the rows (Announcements.params puts it after the events').
 */
export const announced = (param: number, events: readonly string[] = ['e']): string =>
  `w AS (${outboxInsertJson(`$${param}`, events)})`

/**
 * The announcements of one statement, or of one transaction: the rows are made with the
 * parameters, counted, and the bell is rung once, after the commit.
 */
export class Announcements {
  #queued = 0
  constructor(readonly announcer: EventAnnouncer) {}

  /**
   * The parameters eventFrom reads (a fresh UUIDv7 for one event of each of `types`, then the
   * context) and after them the one `announced` reads: the rows that announce those events,
   * recorded at `at`. What the statement finds itself (who, which session, the detail) is filled
   * in there from the event as written.
   */
  params(context: AuditContext, at: number, types: readonly AuditType[]): unknown[] {
    const ids = types.map(() => uuidv7())
    const rows = types.flatMap((type, i) => this.#rowsFor(ids[i] as string, context, at, type))
    return [...ids, ...contextParams(context), outboxRowsJson(rows)]
  }

  /** The rows parameter alone, for events of one type whose ids are `ids`. */
  rows(ids: readonly string[], context: AuditContext, at: number, type: AuditType): string {
    return outboxRowsJson(ids.flatMap((id) => this.#rowsFor(id, context, at, type)))
  }

  #rowsFor(id: string, context: AuditContext, at: number, type: AuditType): NewOutboxMessage[] {
    const rows = this.announcer.rowsFor({
      id,
      at,
      type,
      userId: null,
      sessionId: null,
      actor: context.actor,
      ip: context.ip ?? null,
      userAgent: context.userAgent ?? null,
      detail: {},
    })
    this.#queued += rows.length
    return rows
  }

  /** Once committed: the worker's bell, if anything was queued. */
  ring(): void {
    if (this.#queued > 0) this.announcer.queued()
  }
}

/**
 * A store's runner for statements that record events: `values` are the statement's own, then come
 * the events' and the rows they announce (Announcements.params), then `last`. The whole query
 * result is answered, announced once committed.
 */
export function recorder(db: Connection, announcer: EventAnnouncer) {
  return <R extends pg.QueryResultRow>(
    statement: Statement,
    values: unknown[],
    context: AuditContext,
    now: number,
    types: AuditType[],
    last: unknown[] = [],
  ): Promise<pg.QueryResult<R>> =>
    announcing(announcer, (announce) =>
      db.query<R>(statement, [...values, ...announce.params(context, now, types), ...last]),
    )
}

/**
 * Runs `change` (one statement, or one transaction) with its announcements, and rings the bell
 * once it has resolved, so committed: a change that throws rings nothing.
 */
export async function announcing<T>(
  announcer: EventAnnouncer,
  change: (announce: Announcements) => Promise<T>,
): Promise<T> {
  const announce = new Announcements(announcer)
  const result = await change(announce)
  announce.ring()
  return result
}

const contextParams = (context: AuditContext): unknown[] => [
  context.actor,
  context.ip ?? null,
  context.userAgent ?? null,
]

const SQL = {
  insert: {
    name: 'lk_record_event',
    text: `WITH e AS (
             INSERT INTO audit_events (${EVENT_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) RETURNING *
           ), ${announced(10)}
           SELECT * FROM e`,
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
    text: `WITH e AS (
             INSERT INTO audit_events (${EVENT_COLUMNS})
             SELECT e.id, $2, 'session.ended', $3, e.session_id, $5, $6, $7, $8::jsonb
             FROM unnest($1::uuid[], $4::uuid[]) AS e (id, session_id)
             RETURNING *
           ), ${announced(9)}
           SELECT 1`,
  },
  recordDeleted: {
    name: 'lk_record_users_deleted',
    text: `WITH e AS (
             INSERT INTO audit_events (${EVENT_COLUMNS})
             SELECT e.id, $2, 'user.deleted', e.user_id, NULL, 'system', NULL, NULL,
                    jsonb_build_object('reason', 'deleted', 'rev', e.rev, 'unused', true)
             FROM unnest($1::uuid[], $3::uuid[], $4::bigint[]) AS e (id, user_id, rev)
             RETURNING *
           ), ${announced(5)}
           SELECT 1`,
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
  announce: Announcements,
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
  const rows = announce.rows(ids, context, now, 'session.ended')
  const values = [ids, now, userId, ended.map((row) => row.id), actor, ip, userAgent, detail, rows]
  await client.query({ ...SQL.recordEnded, values })
  return ended.length
}

/** Records users the housekeeping deleted as unused (the system's doing), on `client`. */
export async function recordDeleted(
  client: pg.PoolClient,
  announce: Announcements,
  users: readonly { id: string; rev: number }[],
  now: number,
): Promise<void> {
  if (users.length === 0) return
  const ids = users.map(() => uuidv7())
  const values = [
    ids,
    now,
    users.map((user) => user.id),
    users.map((user) => user.rev),
    announce.rows(ids, SYSTEM, now, 'user.deleted'),
  ]
  await client.query({ ...SQL.recordDeleted, values })
}

/** Writes one event on `client`, inside the caller's transaction. */
export async function recordOn(
  client: pg.PoolClient,
  announce: Announcements,
  ...args: Parameters<typeof eventValues>
): Promise<void> {
  await client.query({ ...SQL.insert, values: insertValues(announce, ...args) })
}

/** An event's values (eventValues) and the rows that announce it: SQL.insert's parameters. */
function insertValues(announce: Announcements, ...args: Parameters<typeof eventValues>): unknown[] {
  const values = eventValues(...args)
  const [now, type, , , context] = args
  return [...values, announce.rows([values[0] as string], context, now, type)]
}

/** The audit_events table; the twin of sqlite/audit.ts. Arguments are checked by compose.ts. */
export function postgresAudit(db: Connection, announcer: EventAnnouncer): AuditStore {
  return {
    async recordEvent(event, context, now) {
      const { type, userId = null, sessionId = null, detail } = event
      const [row] = await announcing(announcer, (announce) =>
        db.rows<AuditRow>(
          SQL.insert,
          insertValues(announce, now, type, userId, sessionId, context, detail),
        ),
      )
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
      // A transaction id (xid8: at most 2^64 - 1) then an event id, or the database would be
      // the one to refuse it, as an outage.
      if (
        position?.length !== 2 ||
        typeof xid !== 'string' ||
        !/^\d{1,20}$/.test(xid) ||
        BigInt(xid) > XID8_MAX ||
        !isUuid(id)
      ) {
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
