import { END_REASONS, type EndReason, type NewSession } from './sessions.js'
import type { Expected, RevokeReason, UserOrigin, UserStatus } from './users.js'

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
