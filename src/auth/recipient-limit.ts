import { RateLimited } from '../errors.js'
import type { AuthDeps } from './deps.js'
import { recipientKey } from './pseudonym.js'

/** Whether one more request is within the limit, and if not, when to try again. */
export interface RateVerdict {
  allowed: boolean
  retryAfterSeconds: number
}

/** Counts the sign-in emails each address is sent, by a keyed hash of the address. */
export interface RecipientLimiter {
  hit(recipientKey: string): Promise<RateVerdict>
}

/** No limit: for the command line, where an operator asks for the email. */
export const unlimited: RecipientLimiter = {
  hit: async () => ({ allowed: true, retryAfterSeconds: 0 }),
}

/**
 * Counts one sign-in email to `email` (normalised), or throws RateLimited past the limit. The
 * counter is keyed by a keyed hash of the address, so the counter store (Redis, say) never holds
 * an address, and whoever reads it cannot test a guess. The message is the same for every
 * address: the limit says nothing about whether an account exists.
 */
export async function countEmailTo(deps: AuthDeps, email: string): Promise<void> {
  const verdict = await deps.recipientLimiter.hit(recipientKey(deps.keyring.pseudonymKey, email))
  if (!verdict.allowed) {
    throw new RateLimited(
      'Too many sign-in emails were requested for this address.',
      verdict.retryAfterSeconds,
    )
  }
}
