/**
 * The port through which the use cases spend an address's email budget. Its implementation
 * (limits.ts) counts in process memory, or in Redis shared by every instance, in the same
 * counters as the HTTP rate limits; the domain sees only this.
 */

/** Whether one more request is within the limit, and if not, when to try again. */
export interface RateVerdict {
  allowed: boolean
  retryAfterSeconds: number
}

/** Counts the sign-in emails each address is sent, by a keyed hash of the address. */
export interface RecipientLimiter {
  hit(recipientKey: string): Promise<RateVerdict>
}
