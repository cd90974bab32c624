import { TokenRevoked, TokenUsed } from '../errors.js'
import type { AuditContext } from '../store/audit.js'
import type { NewSession, SessionWithUser } from '../store/sessions.js'
import type { TokenFields } from '../tokens/codec.js'
import { assertCurrent } from './check-user.js'
import type { AuthDeps } from './deps.js'

/** Whom a session is for and where it was opened from; ip and user agent are only recorded. */
export interface SessionOrigin {
  /** The name of the API key that opens the session, or HOSTED for the hosted pages. */
  client: string
  ip?: string | undefined
  userAgent?: string | undefined
}

/** The client of sessions opened by the hosted pages (no API key may take this name). */
export const HOSTED = 'hosted'

/** Who acts for a client, as the audit trail names it: the hosted pages, or an API key. */
export function actorOf(client: string): string {
  return client === HOSTED ? HOSTED : `key:${client}`
}

/** The audit context of a sign-in: its client, and the device it is for. */
export function signInContext(origin: SessionOrigin): AuditContext {
  return {
    actor: actorOf(origin.client),
    ip: origin.ip ?? null,
    userAgent: origin.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
  }
}

/** Longer user agents are cut: the row is for a person to recognise a device, not a log. */
export const USER_AGENT_MAX = 512

/**
 * Uses a login link or an exchange code up and opens its session, in one transaction (one
 * statement on PostgreSQL): a one-time token moves the user's seq (of concurrent attempts exactly
 * one wins), a reusable login link only records the sign-in. Either is conditional on rev and
 * status, so a revoke or disable that lands in between is honoured.
 */
export async function openSession(
  deps: AuthDeps,
  fields: TokenFields,
  oneTime: boolean,
  origin: SessionOrigin,
): Promise<SessionWithUser> {
  const { store, clock } = deps
  const now = clock()
  const session = newSession(deps, origin, now)
  const context = signInContext(origin)
  const expected = { rev: fields.rev, seq: fields.seq }
  // The token's expiry goes into link.verified: with the user id it names the link (link-stats.ts).
  const used = { expiresAt: fields.expiresAt }
  const opened = oneTime
    ? await store.consumeAndOpen(fields.userId, expected, session, now, context, used)
    : await store.touchAndOpen(fields.userId, fields.rev, session, now, context, used)
  if (opened) {
    deps.observer.sessionCreated()
    return opened
  }
  // Lost a race: read again only to name the reason precisely (this is the failure path).
  assertCurrent(await store.findById(fields.userId), fields)
  throw oneTime ? new TokenUsed() : new TokenRevoked()
}

/**
 * A backend's session lasts SESSION_MAX_AGE, however often it is refreshed. The hosted pages
 * keep only the JWT, in a cookie, and hand out no refresh token: their session ends with it.
 */
function newSession(deps: AuthDeps, origin: SessionOrigin, now: number): NewSession {
  const { sessionTtl, sessionMaxAge } = deps.config
  const lifetime = origin.client === HOSTED ? sessionTtl : sessionMaxAge
  return {
    client: origin.client,
    expiresAt: now + lifetime * 1000,
    ip: origin.ip ?? null,
    userAgent: origin.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
  }
}
