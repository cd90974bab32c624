import { RateLimited } from '../errors.js'
import type { AuthDeps } from './deps.js'
import { recipientKey } from './pseudonym.js'

/**
 * Counts one sign-in email to `email` (normalised), or throws RateLimited past the limit. The
 * counter is keyed by a keyed hash of the address, so the counter store (Redis, say) never holds
 * an address, and whoever reads it cannot test a guess. The message is the same for every
 * address: the limit says nothing about whether an account exists.
 */
export async function countEmailTo(deps: AuthDeps, email: string): Promise<void> {
  const verdict = await deps.recipientLimiter.hit(recipientKey(deps.keyring.pseudonymKey, email))
  if (!verdict.allowed) {
    deps.observer.rateLimited('recipient')
    throw new RateLimited(
      'Too many sign-in emails were requested for this address.',
      verdict.retryAfterSeconds,
    )
  }
}
