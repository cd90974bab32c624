import { LatchkeyError, TOKEN_ERROR_CODES, type TokenErrorCode } from '../errors.js'
import type { DeliveryObserver } from '../outbox/observer.js'
import type { EndReason } from '../store/sessions.js'
import type { UaFamily } from './user-agent.js'

/** How a link verification ended: `ok`, or the token error a backend was told. */
export type VerifyOutcome = 'ok' | TokenErrorCode

/**
 * What a verification was for: `use` spends the link (signs in, or records an access);
 * `check` only looks (a dry run, the GET of a link's page, a confirmation still to come).
 * A hosted sign-in is a `check` when its page opens, then a `use` when the button is pressed.
 */
export type VerifyMode = 'check' | 'use'

/** How a link's page was opened: what a person's browser does (GET), or only asked about (HEAD). */
export type ViewMethod = 'GET' | 'HEAD'

/** The rate limits of DESIGN requirement 15, by the names their settings give them. */
export type LimitName = 'ip' | 'api_key' | 'recipient' | 'form_ip' | 'code'

/**
 * The port through which the use cases say what happened, for counting (src/metrics implements
 * it with Prometheus counters). Every argument is one of a few fixed words: nothing that names a
 * person, an address or a token ever passes here, so no metric label can carry one. Methods
 * return nothing and never throw: reporting can never fail a sign-in.
 */
export interface Observer extends DeliveryObserver {
  linkIssued(purpose: 'login' | 'access', delivery: 'queued' | 'none'): void
  /** One link verification (the API's, dry runs included, or the hosted confirm page's). */
  verified(mode: VerifyMode, outcome: VerifyOutcome): void
  /**
   * A link's page opened (GET or HEAD) for a link whose MAC passed, as link.viewed records it:
   * whether the browser carried the binding cookie for the link's user, and its UA family.
   */
  linkViewed(method: ViewMethod, cookie: boolean, family: UaFamily): void
  sessionCreated(): void
  /** A rotation; a retry within the grace, answered with the current pair, is none. */
  sessionRefreshed(): void
  /** `count` sessions ended just now, each for `reason` (a revoke ends all of a user's). */
  sessionsEnded(reason: EndReason, count: number): void
  /** A request refused (429) past the limit `limit`. */
  rateLimited(limit: LimitName): void
  /** One sign-in code checked (within the guess budget): it signed in, or it did not. */
  codeVerified(outcome: 'ok' | 'code_invalid'): void
}

/**
 * Reports how `verification` ended, then settles as it does; `modeOf` may tell from the result
 * what a success turned out to be. Failures other than a token's (the database is down, say) are
 * no verdict on the link and are left to the request metrics.
 */
export async function reportVerification<T>(
  observer: Observer,
  mode: VerifyMode,
  verification: Promise<T>,
  modeOf: (result: T) => VerifyMode = () => mode,
): Promise<T> {
  try {
    const result = await verification
    observer.verified(modeOf(result), 'ok')
    return result
  } catch (error) {
    if (error instanceof LatchkeyError && isTokenError(error.code)) {
      observer.verified(mode, error.code)
    }
    throw error
  }
}

function isTokenError(code: string): code is TokenErrorCode {
  return (TOKEN_ERROR_CODES as readonly string[]).includes(code)
}
