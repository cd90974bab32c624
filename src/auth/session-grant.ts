import { toSeconds } from '../clock.js'
import type { User } from '../store/users.js'
import { Purpose } from '../tokens/codec.js'
import type { AuthDeps } from './deps.js'

export interface SessionGrant {
  jwt: string
  /** Seconds since the Unix epoch. */
  expiresAt: number
  refreshToken: string
  refreshExpiresAt: number
}

/**
 * A session JWT and a refresh token (a purpose-3 token carrying rev, so revoke ends it), for
 * `client`: the name of the API key that opens the session, or `hosted` for the hosted pages.
 */
export async function grantSession(
  deps: AuthDeps,
  user: User,
  client: string,
): Promise<SessionGrant> {
  const now = deps.clock()
  const { jwt, expiresAt } = await deps.sessions.sign(
    { sub: user.id, client_id: client, email: user.email, rev: user.rev },
    now,
  )
  const refreshExpiresAt = toSeconds(now) + deps.config.refreshTtl
  const refreshToken = deps.keyring.mint({
    purpose: Purpose.Refresh,
    flags: 0,
    userId: user.id,
    expiresAt: refreshExpiresAt,
    rev: user.rev,
    seq: 0,
  })
  return { jwt, expiresAt, refreshToken, refreshExpiresAt }
}
