/**
 * The port through which the use cases spend an address's email budget. Its implementations (in
 * process memory, or Redis shared by every instance) live with the HTTP rate limits, which count
 * in the same store; the domain sees only this.
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

/** No limit: for the command line, where an operator asks for the email. */
export const unlimited: RecipientLimiter = {
  hit: async () => ({ allowed: true, retryAfterSeconds: 0 }),
}
