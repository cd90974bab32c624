import { toSeconds } from '../clock.js'
import { InvalidRequest, TokenExpired, TokenInvalid, TokenRevoked, TokenUsed } from '../errors.js'
import type { AuditContext } from '../store/audit.js'
import type { User } from '../store/users.js'
import { Flag, hasFlag, Purpose, type TokenFields } from '../tokens/codec.js'
import { assertCurrent, loadTokenUser } from './check-user.js'
import type { AuthDeps } from './deps.js'
import { recordFailure } from './link-failure.js'
import { reportVerification } from './observer.js'
import { openSession, signInContext } from './open-session.js'
import { checkRedirect } from './redirect.js'
import { grantSession, type SessionGrant } from './session-grant.js'

export type VerifyRequest = LinkCheck & (DryRun | Consume)

/** What a verifier presents with a token: the context its MAC must bind. */
export interface LinkCheck {
  token: string
  scope?: string | undefined
  redirectTo?: string | undefined
  ip?: string | undefined
}

/** Checks the link without using it up or signing in. */
interface DryRun {
  consume: false
}

interface Consume {
  consume: true
  /** Whom a login link's session is for: the API key's name. */
  client: string
  /** The signing-in device's user agent, as the backend saw it (the ip is LinkCheck's). */
  userAgent?: string | undefined
}

export interface VerifyResult {
  user: User
  /** A session for login links that were consumed; null for access links and dry runs. */
  session: SessionGrant | null
  redirectTo: string | null
  scope: string | null
}

/**
 * The hot path. A login link that is used costs one round trip: decode, one HMAC, then the
 * consume and the new session in one statement (PostgreSQL) or one transaction (SQLite), and one
 * JWT signature. The user is read first only when nothing is used up, and afterwards only to
 * name why a consume failed. Forged, altered and expired tokens are refused (checkLink) before
 * the database is asked.
 */
export function verifyLink(deps: AuthDeps, request: VerifyRequest): Promise<VerifyResult> {
  const mode = request.consume ? 'use' : 'check'
  return reportVerification(deps.observer, mode, verify(deps, request))
}

async function verify(deps: AuthDeps, request: VerifyRequest): Promise<VerifyResult> {
  // A dry run records nothing and changes nothing. (The hosted confirm page's GET records its
  // view, and only that, through view-link.ts.)
  if (!request.consume) {
    const link = checkLink(deps, request)
    const user = await loadTokenUser(deps.store, link.fields)
    return { user, session: null, redirectTo: link.redirectTo, scope: link.scope }
  }
  const origin = { client: request.client, ip: request.ip, userAgent: request.userAgent }
  const context = signInContext(origin)
  let link: CheckedLink | undefined
  try {
    link = checkLink(deps, request)
    const found = { redirectTo: link.redirectTo, scope: link.scope }
    if (link.login) {
      const opened = await openSession(deps, link.fields, link.oneTime, origin)
      return { user: opened.user, session: grantSession(deps, opened), ...found }
    }
    const opened = { ...link, user: await loadTokenUser(deps.store, link.fields) }
    return { user: await useLink(deps, opened, context), session: null, ...found }
  } catch (error) {
    const { userId, expiresAt } = link?.fields ?? {}
    return recordFailure(deps, error, userId, context, purposeOf(link), expiresAt)
  }
}

/** A link whose MAC and expiry were checked, before anything is read. */
export interface CheckedLink {
  fields: TokenFields
  login: boolean
  oneTime: boolean
  /** Requested from the hosted form (see DESIGN: browser binding). */
  browserBound: boolean
  /** The target the link binds, in its canonical spelling; null when it binds none. */
  redirectTo: string | null
  scope: string | null
}

/** A link whose MAC, expiry and user were checked; nothing is used up yet. */
export interface OpenLink extends CheckedLink {
  user: User
}

/** What kind of link failed, for the audit trail; unknown when it failed its own checks. */
export function purposeOf(link: CheckedLink | undefined): 'login' | 'access' | undefined {
  return link && (link.login ? 'login' : 'access')
}

/** Everything about a link that needs no database: shape, MAC, expiry, what it binds. */
export function checkLink(deps: AuthDeps, check: LinkCheck): CheckedLink {
  const now = toSeconds(deps.clock())
  const link = openLinkPastExpiry(deps, check, now)
  if (link.fields.expiresAt <= now) throw new ExpiredLink(link)
  return link
}

/**
 * An expired link: token_expired, once its MAC has passed. It carries the link, so that the one
 * opening names it in the audit trail (link.failed, link.viewed) and decides its page's one-click
 * recovery (resend-link.ts) as it does for a link that fails later.
 */
export class ExpiredLink extends TokenExpired {
  constructor(readonly link: CheckedLink) {
    super()
    this.subject = link.fields.userId
    this.expiresAt = link.fields.expiresAt
  }
}

/** The link a failure was of, once its MAC passed (an expired link's too); none for a forgery. */
export function failedLink(
  checked: CheckedLink | undefined,
  error: unknown,
): CheckedLink | undefined {
  return checked ?? (error instanceof ExpiredLink ? error.link : undefined)
}

/**
 * checkLink's checks but the expiry: a link past its expiry opens here, and a caller must judge
 * the expiry itself (as its name says): a link is used while it lasts (checkLink), and renewed
 * for a while after (resend-link.ts). `accept` is the purposes taken, each with the
 * longest TTL this service issues for it (see KeyRing.open).
 */
export function openLinkPastExpiry(
  deps: AuthDeps,
  check: LinkCheck,
  now: number,
  accept: Partial<Record<Purpose, number>> = {
    [Purpose.Login]: deps.config.linkTtlMax,
    [Purpose.Access]: deps.config.accessTtlMax,
  },
): CheckedLink {
  const redirect = presentedTarget(check.redirectTo, deps.config.allowedRedirects)
  const context = { scope: check.scope, redirect, ip: check.ip }
  const fields = deps.keyring.open(check.token, accept, context, now, { allowExpired: true })
  return {
    fields,
    login: fields.purpose === Purpose.Login,
    oneTime: hasFlag(fields.flags, Flag.OneTime),
    browserBound: hasFlag(fields.flags, Flag.BrowserBound),
    redirectTo: hasFlag(fields.flags, Flag.HasRedirect) ? (redirect ?? null) : null,
    scope: hasFlag(fields.flags, Flag.HasScope) ? (check.scope ?? null) : null,
  }
}

/**
 * Uses an opened link up: one conditional update, or none for a reusable access link. Returns the
 * user as the update left it.
 */
export async function useLink(
  deps: AuthDeps,
  link: OpenLink,
  context: AuditContext,
): Promise<User> {
  const { store, clock } = deps
  const { fields, user, oneTime } = link
  if (!oneTime && !link.login) return user
  const used = { expiresAt: fields.expiresAt }
  // One statement compares and moves the counters, so of any number of concurrent uses exactly
  // one wins. A reusable login link only records the sign-in, still conditional on rev and
  // status so a revoke that lands in between is honoured.
  const updated = oneTime
    ? await store.consume(user.id, { rev: fields.rev, seq: fields.seq }, clock(), context, used)
    : await store.touchLogin(user.id, fields.rev, clock(), context, used)
  if (!updated) {
    // Lost a race: read again only to name the reason precisely (this is the failure path).
    assertCurrent(await store.findById(user.id), fields)
    throw oneTime ? new TokenUsed() : new TokenRevoked()
  }
  return updated
}

/**
 * The target a verifier presents, spelled as links bind it (see redirect.ts), so the encoded and
 * the unencoded form of one target both match. A target we would never issue cannot be one the
 * link binds: it fails as token_invalid, here, before anything is read or used up.
 */
export function presentedTarget(
  target: string | undefined,
  allowedOrigins: readonly string[],
): string | undefined {
  if (target === undefined) return undefined
  try {
    return checkRedirect(target, allowedOrigins)
  } catch (error) {
    if (error instanceof InvalidRequest) throw new TokenInvalid()
    throw error
  }
}
