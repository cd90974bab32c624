/** The audit event types of DESIGN ("Audit, events and the revocation feed"). */
export const AUDIT_TYPES = [
  'user.created',
  'link.issued',
  'link.verified',
  'link.failed',
  'link.viewed',
  'code.failed',
  'session.created',
  'session.refreshed',
  'session.ended',
  'user.revoked',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'user.reported',
  'email.queued',
  'email.sent',
  'email.failed',
  'email.suppressed',
  'email.delivered',
  'email.bounced',
  'email.complained',
] as const

export type AuditType = (typeof AUDIT_TYPES)[number]

/**
 * Who changed something, and from where: `key:<api key name>`, `hosted`, `cli` or `system`. A
 * store method that changes state takes one; without it the change is the system's own. Never a
 * token, code, JWT, key or cookie.
 */
export interface AuditContext {
  actor: string
  ip?: string | null | undefined
  userAgent?: string | null | undefined
}

/** The context of a change nobody asked for by name (housekeeping, the store's own defaults). */
export const SYSTEM: AuditContext = { actor: 'system' }

/** One recorded event. Times are milliseconds since the Unix epoch; detail is JSON. */
export interface AuditEvent {
  /** UUIDv7: sorts by time. */
  id: string
  at: number
  type: AuditType
  userId: string | null
  sessionId: string | null
  actor: string
  ip: string | null
  userAgent: string | null
  detail: Record<string, unknown>
}

/** An event written by itself, not as part of a change the store makes (a failed link …). */
export interface NewAuditEvent {
  type: AuditType
  userId?: string | null | undefined
  sessionId?: string | null | undefined
  detail?: Record<string, unknown> | undefined
}

export interface AuditQuery {
  userId?: string | undefined
  /** An exact type, or a prefix ending in `.*` (`session.*`). */
  type?: string | undefined
  /** Only events older than this event id (the next page). */
  before?: string | undefined
  limit: number
}

/** Why a user's tokens or sessions stopped working, as the revocation feed names it. */
export type RevocationReason =
  | 'revoked'
  | 'reported'
  | 'disabled'
  | 'deleted'
  | 'logout'
  | 'refresh_reused'
  | 'admin'

/** A rev change or an ended session, as a backend following the feed needs it. */
export interface Revocation {
  userId: string
  /** The user's rev after the change: JWTs with a lower rev are dead. */
  rev: number
  /** Set when one session ended; absent when the user's rev moved (every session). */
  sessionId: string | null
  reason: RevocationReason
  at: number
}

/** A page of the feed and where the next one starts. */
export interface RevocationPage {
  revocations: Revocation[]
  /** Opaque; pass it back as `after`. Unchanged when nothing new was handed out. */
  cursor: string
}

/** The event types the revocation feed is made of. */
export const FEED_TYPES = [
  'user.revoked',
  'user.disabled',
  'user.deleted',
  'session.ended',
] as const

/**
 * Events as rows. Every store method that changes state writes its own events in the same
 * transaction (requirement 19); this writes the ones that record no change of ours (a link that
 * failed after its MAC passed), lists them for operators, and prunes them.
 */
export interface AuditStore {
  recordEvent(event: NewAuditEvent, context: AuditContext, now: number): Promise<AuditEvent>
  /** Newest first. */
  listEvents(query: AuditQuery): Promise<AuditEvent[]>
  /**
   * Deletes events from before `before`, except the revocation feed's from `feedBefore` on (the
   * feed is kept at least REFRESH_TTL, whatever AUDIT_RETENTION says). Resolves to how many went.
   */
  pruneEvents(before: number, feedBefore: number): Promise<number>
  /**
   * The revocation feed after `cursor` (undefined: from the oldest kept), in the order the
   * changes committed, never skipping one that commits later with an earlier start. A cursor
   * this store cannot have handed out is refused with InvalidRequest (it comes from outside).
   */
  revocations(after: string | undefined, limit: number): Promise<RevocationPage>
}
