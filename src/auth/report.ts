import { toSeconds } from '../clock.js'
import { TokenInvalid, TokenRevoked, UserDisabled } from '../errors.js'
import type { User } from '../store/users.js'
import { Purpose, type TokenFields } from '../tokens/codec.js'
import type { AuthDeps } from './deps.js'
import { inboxOf } from './inbox.js'

/** How long a "this wasn't me" link works: a person may read last week's email. */
export const REPORT_TTL_SECONDS = 7 * 24 * 3600
/** How long sign-in emails to a reported inbox pause. */
export const REPORT_PAUSE_MS = 24 * 3600 * 1000

/** The report link of a sign-in email: purpose 5, so it can never sign in, nor a link report. */
export function mintReportToken(
  deps: Pick<AuthDeps, 'keyring'>,
  link: { userId: string; rev: number; seq: number; issuedAt: number },
): string {
  return deps.keyring.mint({
    purpose: Purpose.Report,
    flags: 0,
    userId: link.userId,
    expiresAt: link.issuedAt + REPORT_TTL_SECONDS,
    rev: link.rev,
    // Informational: a report voids whatever is pending, not only this email's link.
    seq: link.seq,
  })
}

/**
 * The user a report link names, checked without changing anything (the page a GET shows):
 * MAC, expiry, a lifetime no longer than 7 days, then the user, active with the same rev. seq is
 * not compared: the link the email carried may be used, and its sender may still be unwanted.
 */
export async function checkReport(deps: AuthDeps, token: string): Promise<User> {
  return (await openReport(deps, token)).user
}

async function openReport(
  deps: AuthDeps,
  token: string,
): Promise<{ fields: TokenFields; user: User }> {
  const fields = deps.keyring.open(
    token,
    { [Purpose.Report]: REPORT_TTL_SECONDS },
    {},
    toSeconds(deps.clock()),
  )
  const user = await deps.store.findById(fields.userId)
  assertReportable(user, fields)
  return { fields, user }
}

function assertReportable(user: User | undefined, fields: TokenFields): asserts user is User {
  if (!user) throw new TokenInvalid()
  if (user.status !== 'active') throw new UserDisabled()
  if (user.rev !== fields.rev) throw new TokenRevoked()
}

export interface ReportRequest {
  token: string
  /** The second, explicit button: also end every session. */
  endSessions: boolean
  ip?: string | undefined
  userAgent?: string | undefined
}

export interface ReportResult {
  user: User
  /** Milliseconds since the Unix epoch: sign-in emails to the inbox flow again after this. */
  pausedUntil: number
  endedSessions: number
}

/**
 * "This wasn't me": the pending links and codes die, sign-in emails to the user's inbox pause for
 * a day, and on request every session ends; one store call, one transaction. The requester of
 * the unwanted emails is not told: their requests keep getting the same answer (the outbox
 * suppresses the rows, see link-email.ts). Pressing the button again is harmless: it voids
 * nothing new and extends the pause from now.
 */
export async function reportUnwanted(
  deps: AuthDeps,
  request: ReportRequest,
): Promise<ReportResult> {
  const { fields, user } = await openReport(deps, request.token)
  const now = deps.clock()
  const pausedUntil = now + REPORT_PAUSE_MS
  const change = { inbox: inboxOf(user.email), pausedUntil, endSessions: request.endSessions }
  const context = { actor: 'hosted', ip: request.ip, userAgent: request.userAgent }
  const reported = await deps.store.report(user.id, fields.rev, change, now, context)
  // Changed between the read and the report (a revoke, a disable): say why, as the read would.
  if (!reported) {
    assertReportable(await deps.store.findById(user.id), fields)
    throw new TokenRevoked()
  }
  if (reported.endedSessions > 0) deps.observer.sessionsEnded('reported', reported.endedSessions)
  return { user: reported, pausedUntil, endedSessions: reported.endedSessions }
}
