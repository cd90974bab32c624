import { toSeconds } from '../clock.js'
import type { Config } from '../config/index.js'
import type { Session, SessionWithUser } from '../store/sessions.js'
import { Purpose } from '../tokens/codec.js'
import type { AuthDeps } from './deps.js'

/** What a backend keeps for one signed-in device. Times are seconds since the Unix epoch. */
export interface SessionGrant {
  sessionId: string
  jwt: string
  expiresAt: number
  refreshToken: string
  refreshExpiresAt: number
}

/**
 * A session JWT naming the session (`sid`) and its client, and the refresh token of the session's
 * current refresh sequence. Neither outlives the session.
 */
export function grantSession(
  deps: AuthDeps,
  { session, user }: SessionWithUser,
  now = deps.clock(),
): SessionGrant {
  const { jwt, expiresAt } = deps.sessions.sign(
    { sub: user.id, client_id: session.client, sid: session.id, email: user.email, rev: user.rev },
    now,
    toSeconds(session.expiresAt),
  )
  const refresh = refreshTokenOf(deps, session, user.rev)
  return { sessionId: session.id, jwt, expiresAt, ...refresh }
}

/**
 * The refresh token of the session's current sequence: a purpose-3 token whose id is the
 * session's, seq its refresh sequence, rev the user's, bound to the session's client. Everything
 * in it comes from the row (its expiry from the time of the last rotation), so the same row
 * always gives the same bytes: a retry within the grace window gets the token it lost without
 * the service storing it.
 */
export function refreshTokenOf(
  deps: Pick<AuthDeps, 'keyring' | 'config'>,
  session: Session,
  rev: number,
): { refreshToken: string; refreshExpiresAt: number } {
  const refreshExpiresAt = refreshExpiry(deps.config, session)
  const refreshToken = deps.keyring.mint(
    {
      purpose: Purpose.Refresh,
      flags: 0,
      userId: session.id,
      expiresAt: refreshExpiresAt,
      rev,
      seq: session.refreshSeq,
    },
    { client: session.client },
  )
  return { refreshToken, refreshExpiresAt }
}

/** REFRESH_TTL after the session's last rotation (or its start), never past its end. */
function refreshExpiry(config: Pick<Config, 'refreshTtl'>, session: Session): number {
  const from = toSeconds(session.lastRefreshedAt ?? session.createdAt)
  return Math.min(from + config.refreshTtl, toSeconds(session.expiresAt))
}
