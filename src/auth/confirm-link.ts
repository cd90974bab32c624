import type { AuditContext } from '../store/audit.js'
import type { User } from '../store/users.js'
import { assertCurrent } from './check-user.js'
import type { AuthDeps } from './deps.js'
import { mintExchangeCode } from './exchange.js'
import { recordFailure } from './link-failure.js'
import { reportVerification } from './observer.js'
import { HOSTED, openSession, type SessionOrigin, signInContext } from './open-session.js'
import { judgeRenewal } from './resend-link.js'
import { grantSession, type SessionGrant } from './session-grant.js'
import {
  type CheckedLink,
  checkLink,
  failedLink,
  type LinkCheck,
  type OpenLink,
  purposeOf,
  useLink,
} from './verify-link.js'

export interface ConfirmRequest extends LinkCheck {
  /** The person said, on the "elsewhere" page, that they mean to sign in here. */
  elsewhereConfirmed: boolean
  /** Whether this browser is the one that asked for a link for `userId` (its binding cookie). */
  askedHere: (userId: string) => boolean
  /** The browser's user agent, recorded with the session it opens. */
  userAgent?: string | undefined
}

/** What the confirm page's button leads to; the route only renders it. */
export type ConfirmResult =
  /** A link from our form, opened in another browser: a second, explicit confirmation first. */
  | { kind: 'elsewhere'; user: User; redirectTo: string | null }
  /** Signed in here (HANDOFF=cookie): the session, and where to go next, if anywhere. */
  | { kind: 'session'; user: User; session: SessionGrant; redirectTo: string | null }
  /** Signed in for the application (HANDOFF=code): the target, carrying the exchange code. */
  | { kind: 'code'; target: string }
  /**
   * Left unused: an access link does not sign in, and a code handoff without a target has nobody
   * to hand the code to, so such a link is not spent for nothing.
   */
  | { kind: 'refused'; reason: 'not_a_login_link' | 'no_target' }

/**
 * The hosted sign-in: one key-ring open, one read, at most one consume. Failures of the link
 * itself throw its LatchkeyError (token_used, token_expired …) as verifyLink does.
 */
export function confirmLink(deps: AuthDeps, request: ConfirmRequest): Promise<ConfirmResult> {
  // Counted as a use once the link is spent; a page that asks again, or refuses, only looked.
  const modeOf = (result: ConfirmResult) =>
    result.kind === 'session' || result.kind === 'code' ? 'use' : 'check'
  return reportVerification(deps.observer, 'use', openAndConfirm(deps, request), modeOf)
}

async function openAndConfirm(deps: AuthDeps, request: ConfirmRequest): Promise<ConfirmResult> {
  const origin = { client: HOSTED, ip: request.ip, userAgent: request.userAgent }
  const context = signInContext(origin)
  let checked: CheckedLink | undefined
  let user: User | undefined
  try {
    checked = checkLink(deps, request)
    user = await deps.store.findById(checked.fields.userId)
    assertCurrent(user, checked.fields)
    return await confirm(deps, request, { ...checked, user }, origin, context)
  } catch (error) {
    // The page of a link that ran out may offer a new one (see judgeRenewal). A use lost to a
    // race fails as token_used only while the user is as `user` was read: active, same rev.
    const failed = failedLink(checked, error)
    if (failed) await judgeRenewal(deps, error, failed, user)
    const { userId, expiresAt } = checked?.fields ?? {}
    return recordFailure(deps, error, userId, context, purposeOf(checked), expiresAt)
  }
}

async function confirm(
  deps: AuthDeps,
  request: ConfirmRequest,
  link: OpenLink,
  origin: SessionOrigin,
  context: AuditContext,
): Promise<ConfirmResult> {
  // A link asked for from our form signs in silently only in the browser that asked for it.
  // Anywhere else (another device, a mail scanner that clicks) a person must say so again.
  if (link.browserBound && !request.elsewhereConfirmed && !request.askedHere(link.user.id)) {
    return { kind: 'elsewhere', user: link.user, redirectTo: link.redirectTo }
  }
  return signInHere(deps, link, origin, context)
}

/**
 * Signs this browser in with `link` (HANDOFF decides how), spending it: the confirm button's
 * last step, and a sign-in code's on the "check your email" page (auth/enter-code.ts).
 */
export async function signInHere(
  deps: AuthDeps,
  link: OpenLink,
  origin: SessionOrigin,
  context: AuditContext,
): Promise<Exclude<ConfirmResult, { kind: 'elsewhere' }>> {
  if (!link.login) return { kind: 'refused', reason: 'not_a_login_link' }
  const handoff = deps.config.handoff
  if (handoff === 'code' && link.redirectTo === null)
    return { kind: 'refused', reason: 'no_target' }
  // From here on the link is spent, so nothing after it may fail on input: the target was
  // canonicalised (or refused) before the MAC check, and is ASCII fit for a Location header.
  if (handoff === 'cookie') {
    const opened = await openSession(deps, link.fields, link.oneTime, origin)
    const session = grantSession(deps, opened)
    return { kind: 'session', user: opened.user, session, redirectTo: link.redirectTo }
  }
  const user = await useLink(deps, link, context)
  // The code handoff mints its session at the exchange, by the backend's key. The code is set,
  // not appended: it goes in the query (before any fragment) and replaces any `code` the target
  // already carried, so a planted code can never be the one traded.
  const target = new URL(link.redirectTo as string, deps.config.publicUrl)
  target.searchParams.set('code', mintExchangeCode(deps, user))
  return { kind: 'code', target: target.toString() }
}
