import { CodeInvalid, InvalidRequest, RateLimited } from '../errors.js'
import { type ConfirmResult, signInHere } from './confirm-link.js'
import type { AuthDeps } from './deps.js'
import { HOSTED, signInContext } from './open-session.js'
import { type CodeCheck, checkCode, spendOrRefuse } from './verify-code.js'

export interface EnterCodeRequest extends CodeCheck {
  ip?: string | undefined
  userAgent?: string | undefined
}

/** What the code form's button leads to; the route only renders it. */
export type EnterCodeResult =
  /** Signed in here, or refused (a code handoff without a target), as the confirm button is. */
  | Exclude<ConfirmResult, { kind: 'elsewhere' }>
  /** Not a code that signs anyone in: the same for every address. */
  | { kind: 'wrong' }
  /** Past the inbox's guess budget, whatever the code. */
  | { kind: 'limited'; retryAfterSeconds: number }

/**
 * The code typed on the "check your email" page. A right code signs in this browser, whichever
 * device read the email: typing it is the explicit step that the confirm page's second
 * confirmation asks for, so there is no browser binding to check. It is handed over as the
 * confirm button hands over a link (signInHere).
 */
export async function enterCode(
  deps: AuthDeps,
  request: EnterCodeRequest,
): Promise<EnterCodeResult> {
  const origin = { client: HOSTED, ip: request.ip, userAgent: request.userAgent }
  const context = signInContext(origin)
  try {
    const link = await checkCode(deps, request, context)
    const result = await spendOrRefuse(deps, link, context, () =>
      signInHere(deps, link, origin, context),
    )
    // A refusal spent nothing (the code still works where a target is known).
    if (result.kind !== 'refused') deps.observer.codeVerified('ok')
    return result
  } catch (error) {
    if (error instanceof RateLimited) {
      return { kind: 'limited', retryAfterSeconds: error.retryAfterSeconds }
    }
    // The address came from our own form, so a malformed one was typed into a page of ours by
    // hand: the same answer as a wrong code.
    if (error instanceof CodeInvalid || error instanceof InvalidRequest) return { kind: 'wrong' }
    throw error
  }
}
