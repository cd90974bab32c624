import { LatchkeyError, RateLimited } from '../errors.js'
import type { AuthDeps } from './deps.js'
import { issueLink } from './issue-link.js'

export interface AskRequest {
  /** The address as typed in the form ('' when none was sent). */
  email: string
  /** A target already checked by the page (offeredRedirect), or none. */
  redirectTo: string | undefined
  /** The language of the page the person asked from: the email is written in it too. */
  locale: string
}

/** What the form's button leads to; the route only renders it. */
export type AskResult =
  /** A link is on its way, or would be: the same for every address, known, unknown or disabled. */
  | { kind: 'sent'; userId: string }
  /** The address had as many emails as its limit allows. */
  | { kind: 'limited'; retryAfterSeconds: number }
  /** Not an email address: the form again, with a word by the field. */
  | { kind: 'invalid_email' }

/**
 * The hosted form: a person asks for a sign-in link to be emailed to them. The link is
 * browser-bound, so it signs in with one click only in the browser that asked for it.
 */
export async function askForLink(deps: AuthDeps, request: AskRequest): Promise<AskResult> {
  try {
    const issued = await issueLink(deps, {
      email: request.email,
      redirectTo: request.redirectTo,
      deliver: 'email',
      // HOSTED_SIGNUP=false: existing users only. An unknown address gets the same page and
      // the same work, its row suppressed in the outbox, as create_user: false on the API.
      createUser: deps.config.hostedSignup,
      browserBound: true,
      locale: request.locale,
      by: { actor: 'hosted' },
    })
    return { kind: 'sent', userId: issued.userId }
  } catch (error) {
    // The same page for every address, known, unknown or disabled: the limit counts them alike.
    if (error instanceof RateLimited) {
      return { kind: 'limited', retryAfterSeconds: error.retryAfterSeconds }
    }
    if (error instanceof LatchkeyError && error.code === 'invalid_request') {
      return { kind: 'invalid_email' }
    }
    throw error
  }
}
