import { InvalidRequest } from '../errors.js'
import { AUDIT_TYPES, type AuditContext, type AuditQuery, type AuditType } from './audit.js'
import { END_REASONS, type EndReason, type NewSession } from './sessions.js'
import type { Expected, RevokeReason, UsedToken, UserOrigin, UserStatus } from './users.js'

/**
 * What compose.ts checks before any statement runs, the same for every store. A caller's
 * mistake (a bad time, limit or status) throws TypeError; an id that cannot be one of ours is
 * not a mistake but an unknown id, answered as such.
 */

/** A UUID as the stores write them: lowercase, with hyphens. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function isUuid(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id)
}

export function checkTime(now: number, name = 'now'): void {
  if (!Number.isSafeInteger(now) || now < 0) {
    throw new TypeError(`${name} must be milliseconds since the Unix epoch`)
  }
}

export function checkDuration(ms: number, name: string): void {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new TypeError(`${name} must be a number of milliseconds`)
  }
}

/** rev and seq as tokens carry them: non-negative integers. */
export function checkCounter(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer`)
  }
}

/** The counters a one-time token carries. */
export function checkExpected(expected: Expected): void {
  checkCounter(expected?.rev, 'rev')
  checkCounter(expected.seq, 'seq')
}

/** A job kind as the outbox names them: a short lower-case word (email, webhook …). */
/** A used token's expiry, when given: seconds, as the token's four bytes hold them. */
export function checkUsedToken(token: UsedToken | undefined): void {
  if (token === undefined) return
  if (
    !Number.isSafeInteger(token.expiresAt) ||
    token.expiresAt < 0 ||
    token.expiresAt > 0xffffffff
  ) {
    throw new TypeError('expiresAt must be seconds that fit the token (0 … 2^32 - 1)')
  }
}

export function checkKind(kind: string): void {
  if (typeof kind !== 'string' || !/^[a-z][a-z0-9_-]{0,31}$/.test(kind)) {
    throw new TypeError('kind must be a lower-case name')
  }
}

export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new TypeError('limit must be a positive integer')
  }
}

/**
 * An address a user could have: a non-empty string without NUL, which PostgreSQL's text cannot
 * hold (auth/email.ts refuses every control character long before this).
 */
export function isEmail(email: unknown): email is string {
  return typeof email === 'string' && email !== '' && !email.includes('\0')
}

export function checkEmail(email: string): void {
  if (!isEmail(email)) throw new TypeError('email must be a non-empty string without NUL')
}

export function checkOrigin(origin: UserOrigin): void {
  if (origin !== 'hosted' && origin !== 'api') {
    throw new TypeError('createdBy must be hosted or api')
  }
}

export function checkStatus(status: UserStatus): void {
  if (status !== 'active' && status !== 'disabled') {
    throw new TypeError('status must be "active" or "disabled"')
  }
}

/** Text a session keeps (client, ip, user agent): PostgreSQL's text cannot hold NUL. */
function checkText(value: unknown, name: string, nullable: boolean): void {
  if (nullable && value === null) return
  if (typeof value !== 'string' || value.includes('\0')) {
    throw new TypeError(`${name} must be a string without NUL${nullable ? ', or null' : ''}`)
  }
}

export function checkNewSession(session: NewSession): void {
  checkText(session?.client, 'client', false)
  if (session.client === '') throw new TypeError('client must not be empty')
  checkTime(session.expiresAt, 'expiresAt')
  checkText(session.ip, 'ip', true)
  checkText(session.userAgent, 'userAgent', true)
}

export function checkEndReason(reason: EndReason): void {
  if (!END_REASONS.includes(reason)) {
    throw new TypeError(`reason must be one of ${END_REASONS.join(', ')}`)
  }
}

export function checkRevokeReason(reason: RevokeReason): void {
  if (reason !== 'revoked' && reason !== 'reported') {
    throw new TypeError('reason must be revoked or reported')
  }
}

/** Longer user agents are cut: an event is for a person to recognise a device, not a log. */
const AUDIT_USER_AGENT_MAX = 512

/**
 * The context an event is written with, made whole: an actor as DESIGN names them (`key:<name>`,
 * `hosted`, `cli`, `system`), ip and user agent as text or null.
 */
export function auditContext(context: AuditContext): {
  actor: string
  ip: string | null
  userAgent: string | null
} {
  checkText(context?.actor, 'actor', false)
  if (!/^(key:.+|hosted|cli|system)$/s.test(context.actor)) {
    throw new TypeError('actor must be key:<name>, hosted, cli or system')
  }
  const ip = context.ip ?? null
  const userAgent = context.userAgent ?? null
  checkText(ip, 'ip', true)
  checkText(userAgent, 'userAgent', true)
  return { actor: context.actor, ip, userAgent: userAgent?.slice(0, AUDIT_USER_AGENT_MAX) ?? null }
}

export function checkAuditType(type: AuditType): void {
  if (!AUDIT_TYPES.includes(type))
    throw new TypeError(`type must be one of ${AUDIT_TYPES.join(', ')}`)
}

/** A type filter is an exact type or a prefix ending in `.*`; a cursor is an event id. */
export function checkAuditQuery(query: AuditQuery): void {
  checkLimit(query?.limit)
  const { type, before } = query
  if (type !== undefined && !/^[a-z]+(\.[a-z_]+|\.\*)$/.test(type)) {
    throw new TypeError('type must be an event type or a prefix ending in .*')
  }
  if (before !== undefined && !isUuid(before)) throw new TypeError('before must be an event id')
}

/**
 * The revocation feed's cursor: base64url of a JSON array, the position of the last entry handed
 * out ([seq] in SQLite; [xid, event id] in PostgreSQL). Opaque to callers; each store reads its
 * own, and a cursor of the other kind or a made-up one is refused.
 */
export function encodeFeedCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url')
}

export function decodeFeedCursor(cursor: string): (string | number)[] | undefined {
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined
  try {
    const position: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString())
    const valid =
      Array.isArray(position) &&
      position.length >= 1 &&
      position.length <= 2 &&
      position.every(
        (part) =>
          (typeof part === 'number' && Number.isSafeInteger(part) && part >= 0) ||
          (typeof part === 'string' && (/^\d{1,20}$/.test(part) || isUuid(part))),
      )
    return valid ? (position as (string | number)[]) : undefined
  } catch {
    return undefined
  }
}

export const badCursor = () => new InvalidRequest('after must be a cursor this feed handed out.')

export const isFeedCursor = (cursor: unknown): cursor is string =>
  typeof cursor === 'string' && decodeFeedCursor(cursor) !== undefined
