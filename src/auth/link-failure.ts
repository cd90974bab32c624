import { LatchkeyError, TokenExpired } from '../errors.js'
import type { AuditContext } from '../store/audit.js'
import type { AuthDeps } from './deps.js'

/** The failures worth an audit event: the token was ours (its MAC passed), the use was refused. */
const RECORDED = new Set(['token_expired', 'token_used', 'token_revoked', 'user_disabled'])

/**
 * Records `link.failed` (with the code) for a link or code that failed after its MAC passed, then
 * rethrows. A forgery (token_invalid before anything names a user) is not recorded: anyone can
 * make those, and a table that grows with them is a way to fill the disk. `userId` is the id the
 * token named, once known, and `expiresAt` its expiry (seconds); an expired token's error carries
 * both (see ExpiredLink in verify-link.ts). With the user id, the expiry names the link across the
 * audit trail (see link-stats.ts).
 */
export async function recordFailure(
  deps: Pick<AuthDeps, 'store' | 'clock'>,
  error: unknown,
  userId: string | undefined,
  context: AuditContext,
  purpose: 'login' | 'access' | 'exchange' | undefined,
  expiresAt?: number,
): Promise<never> {
  const expired = error instanceof TokenExpired
  const subject = expired ? (error.subject ?? userId) : userId
  if (error instanceof LatchkeyError && RECORDED.has(error.code) && subject !== undefined) {
    const expiry = expired ? (error.expiresAt ?? expiresAt) : expiresAt
    const detail = {
      code: error.code,
      ...(purpose === undefined ? {} : { purpose }),
      ...(expiry === undefined ? {} : { expires_at: expiry }),
    }
    await deps.store.recordEvent(
      { type: 'link.failed', userId: subject, detail },
      context,
      deps.clock(),
    )
  }
  throw error
}
