import type { AuditContext } from './audit.js'
export type UserStatus = 'active' | 'disabled'

/** The end reasons a revoke gives the sessions it ends. */
export type RevokeReason = 'revoked' | 'reported'

/** A user as the domain sees it. Times are milliseconds since the Unix epoch. */
export interface User {
  id: string
  email: string
  status: UserStatus
  /** Revocation counter: carried by every token and session; a revoke and a disable move it. */
  rev: number
  /** Login sequence: one-time tokens carry it; consuming one increments it. */
  seq: number
  createdAt: number
  lastLoginAt: number | null
}

/** A user as a revoke or a status change left them, and how many open sessions it ended. */
export interface ChangedUser extends User {
  endedSessions: number
}

/** The counters a token was made with, compared atomically when it is used. */
export interface Expected {
  rev: number
  seq: number
}

/**
 * The token a link.verified event is about: its expiry (seconds since the Unix epoch), recorded
 * in the event's detail (`expires_at`). With the user id it names one link across the audit
 * trail (link.viewed, link.verified, link.failed) at no extra cost on the verify path.
 */
export interface UsedToken {
  expiresAt: number
}

/** What a "this wasn't me" report does besides voiding the user's pending links and codes. */
export interface ReportChange {
  /** The user's inbox (auth/inbox.ts): sign-in emails to it pause until `pausedUntil`. */
  inbox: string
  pausedUntil: number
  /** Also end every session: rev moves on, as a revoke with reason `reported`. */
  endSessions: boolean
}

/** Who created a user: the hosted sign-in form, or anyone else (a backend, the CLI). */
export type UserOrigin = 'hosted' | 'api'

/**
 * Where users live. Every method that changes a user writes its audit event (user.created,
 * link.verified, user.revoked, user.disabled, user.enabled, user.deleted, and session.ended for
 * each session a revoke or disable ends) in the same transaction, with the caller's `audit`
 * context (the system's when none is given); a method that changes nothing writes nothing. Every method is async so a networked database fits behind the same contract;
 * one contract suite (test/store/contract/) runs against every implementation. An id that is not
 * a UUID as the store writes them (lowercase) is simply no user: lookups find nothing and changes
 * change nothing. Emails passed in are already normalised (see auth/email.ts); uniqueness is
 * case-insensitive.
 */
export interface UserStore {
  findById(id: string): Promise<User | undefined>
  findByEmail(email: string): Promise<User | undefined>
  /**
   * Returns the existing user for this email, or creates one (UUIDv7, status active, rev 0, seq 0)
   * recording who created it: only users the hosted form created are ever pruned (see
   * pruneUnused), so anything else is `api`.
   */
  findOrCreate(
    email: string,
    now: number,
    createdBy?: UserOrigin,
    audit?: AuditContext,
  ): Promise<{ user: User; created: boolean }>
  /** Newest first. */
  list(options: { limit: number }): Promise<User[]>
  /**
   * The single-use step: one atomic compare-and-increment of seq, also setting last_login_at,
   * applied only while seq, rev and status 'active' are what the token expects. Of any number of
   * concurrent calls with the same expectation exactly one gets the updated user back; the others
   * get undefined.
   */
  consume(
    id: string,
    expected: Expected,
    now: number,
    audit?: AuditContext,
    token?: UsedToken,
  ): Promise<User | undefined>
  /** Sets last_login_at only while rev matches and the user is active (a login with a reusable link). */
  touchLogin(
    id: string,
    rev: number,
    now: number,
    audit?: AuditContext,
    token?: UsedToken,
  ): Promise<User | undefined>
  /**
   * Increments rev and, in the same transaction, ends every open session of the user with
   * `reason` (revoked, or reported when the person asked from a report page): every link, code,
   * refresh token and session the user holds stops working at once.
   */
  revoke(
    id: string,
    now: number,
    reason?: RevokeReason,
    audit?: AuditContext,
  ): Promise<ChangedUser | undefined>
  /**
   * "This wasn't me", in one transaction, only while the user is active with rev `rev`: seq
   * moves on (every pending link and code dies), the inbox is suppressed (reason `reported`)
   * until `pausedUntil` (never shortening an entry already there), user.reported is recorded,
   * and with `endSessions` the revoke path runs too (rev, sessions ended `reported`, the
   * revocation feed). Undefined, and nothing written, when the user is not as expected.
   */
  report(
    id: string,
    rev: number,
    change: ReportChange,
    now: number,
    audit?: AuditContext,
  ): Promise<ChangedUser | undefined>
  /**
   * A disable of an active user also increments rev, and ends every open session of the user
   * (disabled) in the same transaction, so enabling again revives nothing issued before: an
   * enable changes the status only. Disabling a disabled user changes nothing.
   */
  setStatus(
    id: string,
    status: UserStatus,
    now: number,
    audit?: AuditContext,
  ): Promise<ChangedUser | undefined>
  /** True when a user was deleted; their sessions go with them (nothing of theirs stays). */
  delete(id: string, now: number, audit?: AuditContext): Promise<boolean>
}
