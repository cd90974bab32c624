import { toSeconds } from '../clock.js'
import type { User } from '../store/users.js'
import type { TokenFields } from '../tokens/codec.js'
import { assertCurrent } from './check-user.js'
import type { AuthDeps } from './deps.js'
import { emailDomain } from './inbox.js'
import { reportVerification, type ViewMethod } from './observer.js'
import { HOSTED, signInContext } from './open-session.js'
import { judgeRenewal } from './resend-link.js'
import { uaFamily } from './user-agent.js'
import {
  type CheckedLink,
  checkLink,
  failedLink,
  type LinkCheck,
  type VerifyResult,
} from './verify-link.js'

export interface ViewRequest extends LinkCheck {
  method: ViewMethod
  /** Whether this browser carries the binding cookie for `userId` (it asked for a link). */
  askedHere: (userId: string) => boolean
  userAgent?: string | undefined
  /** Told when the view could not be recorded; the page is answered all the same. */
  unrecorded: (error: unknown) => void
}

/** How many of the user's latest emails are searched for the one that carried the link. */
const OUTBOX_LOOKBACK = 20

/**
 * The GET (and HEAD) of a link's page: the dry run of verifyLink (nothing is used up, no counter
 * moves: DESIGN security 7), and scanner telemetry. Every view of a link whose MAC passed is
 * recorded as `link.viewed`, whether the link still works or not (expired, used, revoked: a
 * scanner opens those too); a forgery names nobody and is only counted as a verification.
 *
 * The record says how the link was opened (method, whether this browser is the one that asked
 * for it, the user-agent family) and when, relative to the email that carried it, so that
 * `link-stats.ts` can tell a mail scanner's prefetch from the person's own click. It is an
 * insert beside the page, not part of it: if it fails, the page is still answered (`unrecorded`
 * hears why), since telemetry must never lock a person out of signing in. The rate limit on the
 * pages bounds how fast these rows can grow.
 */
export function viewLink(deps: AuthDeps, request: ViewRequest): Promise<VerifyResult> {
  return reportVerification(deps.observer, 'check', view(deps, request))
}

async function view(deps: AuthDeps, request: ViewRequest): Promise<VerifyResult> {
  let link: CheckedLink | undefined
  let user: User | undefined
  try {
    link = checkLink(deps, request)
    user = await deps.store.findById(link.fields.userId)
    assertCurrent(user, link.fields)
  } catch (error) {
    // A link that no longer works (expired, used, revoked …) is viewed all the same, once its
    // MAC has passed; the page then says why it cannot be used, and whether a new one is a
    // click away.
    const failed = failedLink(link, error)
    if (failed) {
      user = await judgeRenewal(deps, error, failed, user)
      await record(deps, request, failed.fields, user)
    }
    throw error
  }
  await record(deps, request, link.fields, user)
  return { user, session: null, redirectTo: link.redirectTo, scope: link.scope }
}

async function record(
  deps: AuthDeps,
  request: ViewRequest,
  link: TokenFields,
  known: User | undefined,
): Promise<void> {
  const { store, clock, observer } = deps
  const cookie = request.askedHere(link.userId)
  const family = uaFamily(request.userAgent)
  observer.linkViewed(request.method, cookie, family)
  try {
    const now = clock()
    // The email that carried this link: same user, same expiry and counters. A link minted
    // without email (deliver: none) has none: no issue time, the user's domain.
    const emails = await store.listOutbox({
      kind: 'email',
      userId: link.userId,
      limit: OUTBOX_LOOKBACK,
    })
    const email = emails.find((message) => carries(message.payload, link))
    const address = email?.recipient ?? (known ?? (await store.findById(link.userId)))?.email
    const detail = {
      expires_at: link.expiresAt,
      seconds_since_issue: email ? Math.max(0, toSeconds(now - email.createdAt)) : null,
      method: request.method,
      cookie,
      ua_family: family,
      domain: address === undefined ? null : emailDomain(address),
    }
    const context = signInContext({ client: HOSTED, ip: request.ip, userAgent: request.userAgent })
    await store.recordEvent({ type: 'link.viewed', userId: link.userId, detail }, context, now)
  } catch (error) {
    request.unrecorded(error)
  }
}

/** Whether an email job's payload is the one a link was minted from (see link-email.ts). */
function carries(payload: unknown, link: TokenFields): boolean {
  if (typeof payload !== 'object' || payload === null) return false
  const { expiresAt, rev, seq } = payload as Record<string, unknown>
  return expiresAt === link.expiresAt && rev === link.rev && seq === link.seq
}
