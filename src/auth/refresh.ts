import { toSeconds } from '../clock.js'
import {
  SessionEnded,
  TokenExpired,
  TokenInvalid,
  TokenRevoked,
  TokenUsed,
  UserDisabled,
} from '../errors.js'
import type { AuditContext } from '../store/audit.js'
import type { SessionWithUser } from '../store/sessions.js'
import { Purpose, type TokenFields } from '../tokens/codec.js'
import type { AuthDeps } from './deps.js'
import { actorOf } from './open-session.js'
import { grantSession, type SessionGrant } from './session-grant.js'

/**
 * Trades the session's current refresh token for a new JWT and the next refresh token (RFC 9700
 * rotation). The token is bound to the session's client, so another API key's attempt fails its
 * MAC. A token one step behind, within REFRESH_REUSE_GRACE of the rotation that replaced it, gets
 * the current pair again (a client retrying an answer it lost); any other stale token means two
 * parties hold the session, so it ends (`refresh_reused`) and the answer is token_used.
 */
export async function refreshSession(
  deps: AuthDeps,
  refreshToken: string,
  client: string,
): Promise<SessionGrant> {
  // One instant for every check: a token that is valid now has its session's end at least a
  // second ahead (its expiry never passes that end), so the JWT signed below has time to live.
  const now = deps.clock()
  const fields = openRefreshToken(deps, refreshToken, client, now)
  // The current token costs one round trip: the compare-and-increment itself, which also checks
  // the session is open and unexpired and its user active with the token's rev.
  const expected = { rev: fields.rev, refreshSeq: fields.seq }
  const context = { actor: actorOf(client) }
  const rotated = await deps.store.rotate(fields.userId, expected, now, context)
  if (rotated) {
    deps.observer.sessionRefreshed()
    return grantSession(deps, rotated, now)
  }
  // Not the current token, or no longer refreshable: read to see which.
  const found = current(await deps.store.findSession(fields.userId), fields, client, now)
  return replay(deps, found, fields, now, context)
}

/** The MAC, the expiry and the client: everything that needs no database. */
export function openRefreshToken(
  deps: AuthDeps,
  token: string,
  client: string,
  now = deps.clock(),
): TokenFields {
  const accept = { [Purpose.Refresh]: deps.config.refreshTtl }
  return deps.keyring.open(token, accept, { client }, toSeconds(now))
}

/**
 * The session the token names, if it can still be refreshed by someone. The order gives the
 * most useful reason first, as check-user.ts: the user, then the session.
 */
function current(
  found: SessionWithUser | undefined,
  fields: TokenFields,
  client: string,
  now: number,
): SessionWithUser {
  // Unknown: a token of the shape that named a user, or a session pruned or deleted with its user.
  if (!found || found.session.client !== client) throw new TokenInvalid()
  const { session, user } = found
  if (user.status !== 'active') throw new UserDisabled()
  if (user.rev !== fields.rev) throw new TokenRevoked()
  if (session.endedAt !== null) throw new SessionEnded()
  // In whole seconds, as the tokens count: a JWT must be able to start before the session ends.
  if (toSeconds(session.expiresAt) <= toSeconds(now)) throw new TokenExpired()
  return found
}

/** A token that is not the session's current one: a retry within the grace, or a reuse. */
async function replay(
  deps: AuthDeps,
  found: SessionWithUser,
  fields: TokenFields,
  now: number,
  context: AuditContext,
): Promise<SessionGrant> {
  const { session } = found
  const graceEnds = (session.lastRefreshedAt ?? 0) + deps.config.refreshReuseGrace * 1000
  if (fields.seq === session.refreshSeq - 1 && now <= graceEnds)
    return grantSession(deps, found, now)
  // Only the session itself makes sequences, so one at or ahead of its own is none of ours (the
  // current one was refused by rotate for a reason current() names). Behind means reused.
  if (fields.seq >= session.refreshSeq) throw new TokenInvalid()
  if (await deps.store.endSession(session.id, 'refresh_reused', now, context)) {
    deps.observer.sessionsEnded('refresh_reused', 1)
  }
  throw new TokenUsed()
}
