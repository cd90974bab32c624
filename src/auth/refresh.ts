import { toSeconds } from '../clock.js'
import { Purpose } from '../tokens/codec.js'
import { loadTokenUser } from './check-user.js'
import type { AuthDeps } from './deps.js'
import { grantSession, type SessionGrant } from './session-grant.js'

/**
 * Trades a refresh token for a new session and a new refresh token. Refresh tokens carry rev, not
 * seq: they are reusable until they expire or the user is revoked, disabled or deleted. They are
 * not bound to a client yet, so the new JWT names `client`, the API key that refreshes.
 */
export async function refreshSession(
  deps: AuthDeps,
  refreshToken: string,
  client: string,
): Promise<SessionGrant> {
  const fields = deps.keyring.open(
    refreshToken,
    { [Purpose.Refresh]: deps.config.refreshTtl },
    {},
    toSeconds(deps.clock()),
  )
  return grantSession(deps, await loadTokenUser(deps.store, fields), client)
}
