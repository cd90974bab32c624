import type { AuditContext } from './audit.js'
import type { Expected, UsedToken, User } from './users.js'

/** Why a session ended; the first reason stands. */
export type EndReason =
  | 'logout'
  | 'revoked'
  | 'refresh_reused'
  | 'admin'
  | 'disabled'
  | 'deleted'
  | 'reported'

export const END_REASONS: readonly EndReason[] = [
  'logout',
  'revoked',
  'refresh_reused',
  'admin',
  'disabled',
  'deleted',
  'reported',
]

/**
 * A signed-in device: opened when a login link, an exchange code or a sign-in code is consumed,
 * refreshed with rotation, ended on its own. Times are milliseconds since the Unix epoch.
 */
export interface Session {
  id: string
  userId: string
  /** The name of the API key that opened it, or `hosted`: only that client may refresh it. */
  client: string
  createdAt: number
  /** When the refresh sequence last moved on; null until the first rotation. */
  lastRefreshedAt: number | null
  /** Absolute: no refresh carries a session past this. */
  expiresAt: number
  /** Refresh tokens carry it; a rotation increments it. Starts at 0. */
  refreshSeq: number
  endedAt: number | null
  endReason: EndReason | null
  ip: string | null
  userAgent: string | null
}

/** What the caller decides about a new session; the store adds the id, times and counters. */
export interface NewSession {
  client: string
  /** The absolute end, decided by the caller (SESSION_MAX_AGE after now). */
  expiresAt: number
  ip: string | null
  userAgent: string | null
}

/** A session and its user, as one read (or one change) of the database saw them. */
export interface SessionWithUser {
  session: Session
  user: User
}

/** What a refresh token carries and rotation compares: the user's rev and the refresh sequence. */
export interface ExpectedRefresh {
  rev: number
  refreshSeq: number
}

/**
 * Sessions as rows. Opening one is the same transaction as the consume that allows it (one
 * statement on PostgreSQL), so a link is never used without its session, nor a session made
 * without its link being used. An id that is not one of ours finds nothing and changes nothing.
 * Each change writes its audit events in its own transaction (link.verified and session.created,
 * session.refreshed, session.ended with the reason and the user's rev), with the caller's `audit`
 * context, the system's when none is given.
 */
export interface SessionStore {
  /**
   * UserStore.consume and the opening of a session, atomically: of any number of concurrent
   * calls with one expectation exactly one gets the updated user and its new session (UUIDv7,
   * refresh sequence 0); the others get undefined and nothing is written.
   */
  consumeAndOpen(
    userId: string,
    expected: Expected,
    session: NewSession,
    now: number,
    audit?: AuditContext,
    token?: UsedToken,
  ): Promise<SessionWithUser | undefined>
  /**
   * UserStore.touchLogin and the opening of a session, atomically (a login with a reusable
   * link): only while rev matches and the user is active; seq does not move.
   */
  touchAndOpen(
    userId: string,
    rev: number,
    session: NewSession,
    now: number,
    audit?: AuditContext,
    token?: UsedToken,
  ): Promise<SessionWithUser | undefined>
  /** The session and its user in one lookup, whatever its state (ended and expired included). */
  findSession(id: string): Promise<SessionWithUser | undefined>
  /**
   * A refresh: one compare-and-increment of the refresh sequence, applied only to an open
   * session that has not expired at `now`, whose sequence is the expected one, and whose user is
   * active with the expected rev; also sets last_refreshed_at. Of concurrent calls with one
   * expectation exactly one gets the session back; the others get undefined.
   */
  rotate(
    id: string,
    expected: ExpectedRefresh,
    now: number,
    audit?: AuditContext,
  ): Promise<SessionWithUser | undefined>
  /**
   * Ends one open session. Idempotent: a session ended already keeps its first reason and time.
   * The session as this call ended it, or undefined when it was unknown or ended already.
   */
  endSession(
    id: string,
    reason: EndReason,
    now: number,
    audit?: AuditContext,
  ): Promise<Session | undefined>
  /** Ends every open session of the user; resolves to how many ended now. */
  endSessions(userId: string, reason: EndReason, now: number, audit?: AuditContext): Promise<number>
  /**
   * The user's sessions that were still usable at `since` (open, or ended or expired since),
   * newest first.
   */
  listSessions(userId: string, query: { since: number; limit: number }): Promise<Session[]>
  /** Deletes sessions that ended or expired before `before`; resolves to how many went. */
  pruneSessions(before: number): Promise<number>
}
