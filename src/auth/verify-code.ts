import { toSeconds } from '../clock.js'
import { CodeInvalid, InvalidRequest, LatchkeyError, RateLimited } from '../errors.js'
import type { LinkPayload } from '../outbox/email-link.js'
import type { AuditContext } from '../store/audit.js'
import type { OutboxMessage } from '../store/outbox.js'
import type { User } from '../store/users.js'
import { deriveCode, normaliseCode, sameCode } from '../tokens/code.js'
import { Flag, hasFlag, Purpose } from '../tokens/codec.js'
import type { KeyRing } from '../tokens/keyring.js'
import type { AuthDeps } from './deps.js'
import { normaliseEmail } from './email.js'
import { openSession, type SessionOrigin, signInContext } from './open-session.js'
import { codeGuessKey } from './pseudonym.js'
import { checkRedirect } from './redirect.js'
import { grantSession } from './session-grant.js'
import type { OpenLink, VerifyResult } from './verify-link.js'

/** The id listed for an address without a user: no row has it, and the listing costs the same. */
const NO_USER = '00000000-0000-0000-0000-000000000000'

/**
 * How many of the user's latest email rows are looked at. More than the recipient limit lets one
 * inbox be sent in a window (5 by default), so every link that could still work is among them.
 */
const RECENT_EMAILS = 20

export interface CodeCheck {
  /** The address the code was sent to, as typed. */
  email: string
  /** The code, as typed. */
  code: string
}

export interface CodeRequest extends CodeCheck {
  /** The backend's API key name (the session's client), and the signing-in device. */
  origin: SessionOrigin
}

/**
 * POST /v1/codes/verify: a code typed into a backend's own UI. Consumed like a one-time login
 * link (the same compare-and-increment of seq, which opens the session), so the code and its
 * link are spent together. The answer is verify's for a login link.
 */
export async function verifyCode(deps: AuthDeps, request: CodeRequest): Promise<VerifyResult> {
  const context = signInContext(request.origin)
  const link = await checkCode(deps, request, context)
  const opened = await spendOrRefuse(deps, link, context, () =>
    openSession(deps, link.fields, true, request.origin),
  )
  deps.observer.codeVerified('ok')
  const session = grantSession(deps, opened)
  return { user: opened.user, session, redirectTo: link.redirectTo, scope: null }
}

/**
 * Which link a code stands for, or CodeInvalid; RateLimited past the inbox's guess budget.
 *
 * The budget is spent first, on every attempt, before anything is read or compared: past it even
 * the right code is refused until the window ends, so the budget bounds guesses, not failures
 * (counting only failures would need a second round trip and would race). It is an inbox's, like
 * the email budget, and known, unknown and disabled addresses spend it alike. Then every address
 * costs the same reads, a user lookup and a listing of that user's recent emails (an unknown
 * address lists the nil id's), and gets the same CodeInvalid when nothing matches. Every wrong
 * code is written down (code.failed), a known user's with their id, so the work is the same.
 */
export async function checkCode(
  deps: AuthDeps,
  check: CodeCheck,
  context: AuditContext,
): Promise<OpenLink> {
  const { store, clock } = deps
  let email: string
  try {
    email = normaliseEmail(check.email)
  } catch (error) {
    if (error instanceof InvalidRequest) throw new InvalidRequest('The email address is not valid.')
    throw error
  }
  const verdict = await deps.codeGuesses.hit(codeGuessKey(deps.keyring.pseudonymKey, email))
  if (!verdict.allowed) {
    deps.observer.rateLimited('code')
    throw new RateLimited(
      'Too many sign-in codes were tried for this address.',
      verdict.retryAfterSeconds,
    )
  }
  const code = normaliseCode(check.code)
  const user = await store.findByEmail(email)
  const rows = await store.listOutbox({
    kind: 'email',
    userId: user?.id ?? NO_USER,
    limit: RECENT_EMAILS,
  })
  const nowSeconds = toSeconds(clock())
  let found: OpenLink | undefined
  for (const row of rows) {
    const link = user && code !== undefined ? linkOf(deps, row, user, nowSeconds) : undefined
    if (link && matches(deps.keyring, link, code as string)) found ??= link
  }
  if (found) return found
  deps.observer.codeVerified('code_invalid')
  // Written for every address, known or not (an unknown one without a user): a write only for
  // accounts would make a wrong code answer measurably later for them (DESIGN security 14).
  await recordFailed(deps, user?.id ?? null, 'wrong', context)
  throw new CodeInvalid()
}

/**
 * Spends the code's link with `spend`; a link that can no longer be spent (another attempt won,
 * or a revoke or disable landed in between) is one more CodeInvalid: a code says nothing more.
 */
export async function spendOrRefuse<T>(
  deps: AuthDeps,
  link: OpenLink,
  context: AuditContext,
  spend: () => Promise<T>,
): Promise<T> {
  try {
    return await spend()
  } catch (error) {
    if (!(error instanceof LatchkeyError) || error instanceof CodeInvalid) throw error
    deps.observer.codeVerified('code_invalid')
    await recordFailed(deps, link.user.id, error.code, context)
    throw new CodeInvalid()
  }
}

/**
 * The link an email row was sent with, when its code could sign in now: a one-time login link,
 * of the user's current counters, not expired, pending or sent. Everything else (access links,
 * reusable links, links of older counters, suppressed or failed rows) has no code that works.
 */
function linkOf(
  deps: AuthDeps,
  row: OutboxMessage,
  user: User,
  nowSeconds: number,
): OpenLink | undefined {
  if (row.status !== 'pending' && row.status !== 'sent') return undefined
  if (user.status !== 'active') return undefined
  const payload = row.payload as Partial<LinkPayload> | null
  if (typeof payload !== 'object' || payload === null) return undefined
  const { purpose, flags, expiresAt, rev, seq } = payload
  if (purpose !== Purpose.Login || typeof flags !== 'number' || !hasFlag(flags, Flag.OneTime)) {
    return undefined
  }
  // An IP-bound link's email carries no code (link-email.ts): a code cannot check an IP.
  if (payload.ip !== undefined) return undefined
  if (rev !== user.rev || seq !== user.seq || typeof expiresAt !== 'number') return undefined
  if (expiresAt <= nowSeconds) return undefined
  let redirectTo: string | null = null
  try {
    // As the email was composed (link-email.ts): in the spelling its link binds.
    if (payload.redirect !== undefined) {
      redirectTo = checkRedirect(payload.redirect, deps.config.allowedRedirects)
    }
  } catch {
    return undefined
  }
  return {
    fields: {
      purpose: Purpose.Login,
      kid: deps.keyring.signingKid,
      flags,
      userId: user.id,
      expiresAt,
      rev,
      seq,
    },
    login: true,
    oneTime: true,
    browserBound: hasFlag(flags, Flag.BrowserBound),
    redirectTo,
    scope: null,
    user,
  }
}

/** Whether `code` is the link's, under any key of the ring (rotation keeps sent codes valid). */
function matches(keyring: KeyRing, link: OpenLink, code: string): boolean {
  let match = false
  for (const key of keyring.codeKeys) {
    // No early exit: each candidate costs every key's HMAC and a constant-time compare.
    if (sameCode(deriveCode(key, link.fields), code)) match = true
  }
  return match
}

/** A code that signed nobody in, for the audit trail: why, never the code (or the address). */
async function recordFailed(
  deps: Pick<AuthDeps, 'store' | 'clock'>,
  userId: string | null,
  reason: string,
  context: AuditContext,
): Promise<void> {
  await deps.store.recordEvent(
    { type: 'code.failed', userId, detail: { reason } },
    context,
    deps.clock(),
  )
}
