import { InvalidRequest } from '../errors.js'
import type { AuditEvent, AuditQuery } from '../store/audit.js'
import type { AuthDeps } from './deps.js'

export interface AuditPage {
  /** Newest first. */
  events: AuditEvent[]
  /** Pass as `before` for the next page; absent on the last one. */
  next?: string
}

/** An exact event type, or a family of them (`session.*`). */
const TYPE_FILTER = /^[a-z]+(\.[a-z_]+|\.\*)$/

/** The operator's view of the audit trail: by user, by type or family, newest first, paged. */
export async function listAuditEvents(
  deps: Pick<AuthDeps, 'store'>,
  query: AuditQuery,
): Promise<AuditPage> {
  if (query.type !== undefined && !TYPE_FILTER.test(query.type)) {
    throw new InvalidRequest('type must be an event type, or a prefix ending in .* (session.*).')
  }
  const events = await deps.store.listEvents(query)
  const last = events.at(-1)
  return events.length === query.limit && last ? { events, next: last.id } : { events }
}

/**
 * Forgets audit events older than AUDIT_RETENTION, except that the revocation feed's stay at
 * least REFRESH_TTL: a backend following the feed may be that far behind and must still find
 * every revocation of a session whose refresh token could yet be used. Resolves to how many went.
 */
export async function pruneAuditEvents(
  deps: Pick<AuthDeps, 'store' | 'clock' | 'config'>,
  log: { info(fields: object, message: string): void },
): Promise<number> {
  const now = deps.clock()
  const { auditRetention, refreshTtl } = deps.config
  const before = now - auditRetention * 1000
  const feedBefore = now - Math.max(auditRetention, refreshTtl) * 1000
  const events = await deps.store.pruneEvents(before, feedBefore)
  if (events > 0) log.info({ events }, 'old audit events deleted')
  return events
}
