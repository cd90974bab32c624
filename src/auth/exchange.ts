import { toSeconds } from '../clock.js'
import type { User } from '../store/users.js'
import { Flag, Purpose, type TokenFields } from '../tokens/codec.js'
import type { AuthDeps } from './deps.js'
import { recordFailure } from './link-failure.js'
import { openSession, type SessionOrigin, signInContext } from './open-session.js'
import { grantSession, type SessionGrant } from './session-grant.js'

export const EXCHANGE_TTL_SECONDS = 60

/**
 * The hosted flow's handoff to an application's backend: a one-time code (purpose 4) that the
 * browser carries to the application, and only the backend, with its API key, can trade for a
 * session. The session itself never passes through the browser's address bar.
 */
export function mintExchangeCode(deps: AuthDeps, user: User): string {
  return deps.keyring.mint({
    purpose: Purpose.Exchange,
    flags: Flag.OneTime,
    userId: user.id,
    expiresAt: toSeconds(deps.clock()) + EXCHANGE_TTL_SECONDS,
    rev: user.rev,
    seq: user.seq,
  })
}

/**
 * One use, within 60 s, while the user is active and not revoked. The session belongs to
 * `origin.client`, the backend's API key that traded the code, not to the hosted pages that
 * minted it; the code's consume and the session's opening are one transaction.
 */
export async function exchangeCode(
  deps: AuthDeps,
  code: string,
  origin: SessionOrigin,
): Promise<SessionGrant> {
  let fields: TokenFields | undefined
  try {
    fields = deps.keyring.open(
      code,
      { [Purpose.Exchange]: EXCHANGE_TTL_SECONDS },
      {},
      toSeconds(deps.clock()),
    )
    // The same compare-and-increment as a one-time link: of concurrent exchanges one wins, and
    // a failure reads the user to say why.
    return grantSession(deps, await openSession(deps, fields, true, origin))
  } catch (error) {
    const context = signInContext(origin)
    return recordFailure(deps, error, fields?.userId, context, 'exchange', fields?.expiresAt)
  }
}
