import { LatchkeyError, TokenExpired } from '../errors.js'
import type { AuditContext } from '../store/audit.js'
import type { AuthDeps } from './deps.js'

/** The failures worth an audit event: the token was ours (its MAC passed), the use was refused. */
const RECORDED = new Set(['token_expired', 'token_used', 'token_revoked', 'user_disabled'])

/**
 * Records `link.failed` (with the code) for a link or code that failed after its MAC passed, then
 * rethrows. A forgery (token_invalid before anything names a user) is not recorded: anyone can
 * make those, and a table that grows with them is a way to fill the disk. `userId` is the id the
 * token named, once known; an expired token's error carries it (see KeyRing.open).
 */
export async function recordFailure(
  deps: Pick<AuthDeps, 'store' | 'clock'>,
  error: unknown,
  userId: string | undefined,
  context: AuditContext,
  purpose: 'login' | 'access' | 'exchange' | undefined,
): Promise<never> {
  const subject = error instanceof TokenExpired ? (error.subject ?? userId) : userId
  if (error instanceof LatchkeyError && RECORDED.has(error.code) && subject !== undefined) {
    const detail = purpose === undefined ? { code: error.code } : { code: error.code, purpose }
    await deps.store.recordEvent(
      { type: 'link.failed', userId: subject, detail },
      context,
      deps.clock(),
    )
  }
  throw error
}
