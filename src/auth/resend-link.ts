import { toSeconds } from '../clock.js'
import { RateLimited, TokenExpired, TokenInvalid, TokenRevoked, UserDisabled } from '../errors.js'
import type { User } from '../store/users.js'
import { Flag, hasFlag, Purpose, type TokenFields } from '../tokens/codec.js'
import type { AskResult } from './ask-for-link.js'
import type { AuthDeps } from './deps.js'
import { issueLink } from './issue-link.js'
import { presentedTarget } from './verify-link.js'

export interface ResendRequest {
  /** The token of the link that failed, from the hidden field of its page. */
  token: string
  /** The target the failed link carried; its MAC binds it. */
  redirectTo: string | undefined
  /** The client's address: an IP-bound link is only good from where it was bound to. */
  ip: string
  /** The language of the page the person asked from: the email is written in it too. */
  locale: string
}

/** What a failed link's page knows of it: no language yet, nothing is sent. */
type LinkOnPage = Omit<ResendRequest, 'locale'>

/** The form's answers (AskResult); a link on its way also names the address it goes to. */
export type ResendResult =
  | Exclude<AskResult, { kind: 'sent' }>
  | { kind: 'sent'; userId: string; email: string }

/** How long after its expiry a link can still be renewed with one click (7 days). */
export const RECOVERY_WINDOW_SECONDS = 7 * 86_400

/** Whose expired or used login link this is: its MAC passed, and it names its user. */
interface RecoverableLink {
  fields: TokenFields
  redirectTo: string | undefined
  ipBound: boolean
}

/**
 * Checks a failed link as far as recovery needs, without the database: a login link (never an
 * access link) whose MAC holds for the target and IP presented, expired or not, claiming no
 * longer a life than a login link may have. Throws the link's own error otherwise.
 */
function openRecoverable(deps: AuthDeps, request: LinkOnPage): RecoverableLink {
  const { config, keyring, clock } = deps
  const redirect = presentedTarget(request.redirectTo, config.allowedRedirects)
  const now = toSeconds(clock())
  const fields = keyring.open(
    request.token,
    { [Purpose.Login]: config.linkTtlMax },
    { redirect, ip: request.ip },
    now,
    { allowExpired: true },
  )
  // Recovery is for the link someone just tried, not for one dug out of an old history or
  // archive: a week past its expiry, it is simply expired.
  if (fields.expiresAt + RECOVERY_WINDOW_SECONDS <= now) {
    const expired = new TokenExpired()
    expired.subject = fields.userId
    expired.expiresAt = fields.expiresAt
    throw expired
  }
  return {
    fields,
    redirectTo: hasFlag(fields.flags, Flag.HasRedirect) ? redirect : undefined,
    ipBound: hasFlag(fields.flags, Flag.IpBound),
  }
}

/**
 * Whether the page of a link that failed as expired or used may offer "Email me a new link":
 * only for a login link whose MAC passed and whose user could be sent a new one (still there,
 * active, not revoked since: one lookup, on an error page only). A forged token, an access link,
 * one whose target or IP does not match, or one a revoke or a disable ended gets the page
 * without the button. Should the lookup fail, the page goes without the button as well.
 */
export async function offersResend(deps: AuthDeps, request: LinkOnPage): Promise<boolean> {
  try {
    const link = openRecoverable(deps, request)
    return (await renewableUser(deps, link)) !== undefined
  } catch {
    return false
  }
}

/** The link's user, when a new link may be sent to them; otherwise why not (thrown). */
async function renewableUser(deps: AuthDeps, link: RecoverableLink): Promise<User> {
  const user = await deps.store.findById(link.fields.userId)
  if (!user) throw new TokenInvalid()
  if (user.status !== 'active') throw new UserDisabled()
  if (user.rev !== link.fields.rev) throw new TokenRevoked()
  return user
}

/**
 * One-click recovery: a fresh link to the person an expired or used link named, bound to this
 * browser and to the same target, counted against their recipient budget, delivered like the
 * form's. The user must still be active with the same rev (a revoke or a disable ended the old
 * link for a reason, and recovery must not undo it); seq may have moved on: that is the "used"
 * case. The answer is the form's: the same "check your email" for whoever clicks.
 */
export async function resendLink(deps: AuthDeps, request: ResendRequest): Promise<ResendResult> {
  const link = openRecoverable(deps, request)
  const user = await renewableUser(deps, link)
  try {
    const issued = await issueLink(deps, {
      userId: user.id,
      redirectTo: link.redirectTo,
      deliver: 'email',
      createUser: false,
      browserBound: true,
      // An IP-bound link is renewed as one, bound to the address that just proved it (the MAC).
      bindIp: link.ipBound ? request.ip : undefined,
      locale: request.locale,
      by: { actor: 'hosted' },
    })
    return { kind: 'sent', userId: issued.userId, email: user.email }
  } catch (error) {
    if (error instanceof RateLimited) {
      return { kind: 'limited', retryAfterSeconds: error.retryAfterSeconds }
    }
    throw error
  }
}
