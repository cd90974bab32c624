import { NotFound } from '../errors.js'
import type { AuditContext } from '../store/audit.js'
import type { AuthDeps } from './deps.js'

/**
 * One increment of the user's rev ends every link, code and refresh token they hold at once, and
 * makes introspection report their session JWTs inactive: the tokens carry the old rev and fail
 * their next check. The store ends their open sessions in the same transaction.
 */
export async function revokeUser(
  deps: AuthDeps,
  userId: string,
  context: AuditContext,
): Promise<{ userId: string; rev: number }> {
  const user = await deps.store.revoke(userId, deps.clock(), 'revoked', context)
  if (!user) throw new NotFound('No user has this id.')
  deps.observer.sessionsEnded('revoked', user.endedSessions)
  return { userId: user.id, rev: user.rev }
}
