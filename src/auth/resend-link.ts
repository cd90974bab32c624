import { toSeconds } from '../clock.js'
import {
  RateLimited,
  TokenExpired,
  TokenInvalid,
  TokenRevoked,
  TokenUsed,
  UserDisabled,
} from '../errors.js'
import type { User } from '../store/users.js'
import { Flag, hasFlag, Purpose, type TokenFields } from '../tokens/codec.js'
import type { AskResult } from './ask-for-link.js'
import type { AuthDeps } from './deps.js'
import { issueLink } from './issue-link.js'
import { type CheckedLink, openLinkPastExpiry } from './verify-link.js'

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

/** The form's answers (AskResult); a link on its way also names the address it goes to. */
export type ResendResult =
  | Exclude<AskResult, { kind: 'sent' }>
  | { kind: 'sent'; userId: string; email: string }

/** How long after its expiry a link can still be renewed with one click (7 days). */
export const RECOVERY_WINDOW_SECONDS = 7 * 86_400

/**
 * The link's half of the recovery rule, for the page that offers it and the button alike: a
 * login link (never an access link), at most RECOVERY_WINDOW_SECONDS past its expiry. Its MAC
 * passed for the target and IP presented (openLinkPastExpiry). Throws why not.
 */
function assertRenewableLink(fields: TokenFields, now: number): void {
  if (fields.purpose !== Purpose.Login) throw new TokenInvalid()
  // Recovery is for the link someone just tried, not for one dug out of an old history or
  // archive: a week past its expiry, it is simply expired.
  if (fields.expiresAt + RECOVERY_WINDOW_SECONDS <= now) throw new TokenExpired()
}

/**
 * The user's half: the link's user could be sent a new one (still there, active, not revoked
 * since: a revoke or a disable ended the old link for a reason, and recovery must not undo it).
 * seq may have moved on: that is the "used" case. Throws why not.
 */
function assertRenewableUser(user: User | undefined, fields: TokenFields): asserts user is User {
  if (!user) throw new TokenInvalid()
  if (user.status !== 'active') throw new UserDisabled()
  if (user.rev !== fields.rev) throw new TokenRevoked()
}

/**
 * Whether the page of a link that failed may offer "Email me a new link", decided where the page
 * opened the link (view-link.ts, confirm-link.ts) and said on the error (`renewable`), so the
 * page opens it once. Only a link that merely ran out (expired, used) may be renewed with one
 * click; a forged, revoked, disabled or wrong-network link ended for a reason that stands, and
 * gets the page without the button. `user` is the link's user when the failure came after it
 * was read; an expired link's is read here (one lookup, on an error page only, for a login link
 * within the window). Should the lookup fail, the page goes without the button as well.
 *
 * Returns the user as far as it was read, for the caller to reuse.
 */
export async function judgeRenewal(
  deps: AuthDeps,
  error: unknown,
  link: CheckedLink,
  user: User | undefined,
): Promise<User | undefined> {
  if (!(error instanceof TokenExpired || error instanceof TokenUsed)) return user
  let read = user
  try {
    assertRenewableLink(link.fields, toSeconds(deps.clock()))
    read ??= await deps.store.findById(link.fields.userId)
    assertRenewableUser(read, link.fields)
    error.renewable = true
  } catch {
    // Not renewable, or the lookup failed: the page without the button.
  }
  return read
}

/**
 * One-click recovery: a fresh link to the person an expired or used link named, bound to this
 * browser and to the same target, counted against their recipient budget, delivered like the
 * form's, when the link and its user still meet the recovery rule (above). The answer is the
 * form's: the same "check your email" for whoever clicks.
 */
export async function resendLink(deps: AuthDeps, request: ResendRequest): Promise<ResendResult> {
  const now = toSeconds(deps.clock())
  // The token comes back from the page's form, so the rule is checked again in full, as for any
  // posted token; an access link is refused before its MAC.
  const link = openLinkPastExpiry(deps, request, now, { [Purpose.Login]: deps.config.linkTtlMax })
  assertRenewableLink(link.fields, now)
  const user = await deps.store.findById(link.fields.userId)
  assertRenewableUser(user, link.fields)
  try {
    const issued = await issueLink(deps, {
      userId: user.id,
      redirectTo: link.redirectTo ?? undefined,
      deliver: 'email',
      createUser: false,
      browserBound: true,
      // An IP-bound link is renewed as one, bound to the address that just proved it (the MAC).
      bindIp: hasFlag(link.fields.flags, Flag.IpBound) ? request.ip : undefined,
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
