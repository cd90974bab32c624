import { toSeconds } from '../clock.js'
import { TokenInvalid, TokenRevoked, TokenUsed, UserDisabled } from '../errors.js'
import type { MailMessage } from '../mail/mailer.js'
import { buildLink, buildReportLink } from '../outbox/email-link.js'
import type { Job, JobHandler, Outcome } from '../outbox/jobs.js'
import type { User } from '../store/users.js'
import { deriveCode, groupCode } from '../tokens/code.js'
import { Flag, hasFlag, Purpose, type TokenFields } from '../tokens/codec.js'
import { assertCurrent } from './check-user.js'
import type { AuthDeps } from './deps.js'
import { suppressionKeys } from './inbox.js'
import { checkRedirect } from './redirect.js'
import { mintReportToken } from './report.js'

/** The id looked up for a row without a user (an unknown address): no user has it. */
const NO_USER = '00000000-0000-0000-0000-000000000000'

const EXPIRED = { drop: 'the link expired before it could be sent' }

/** The outbox's `email` jobs: a link composed at send time, sent by the mailer. */
export function linkEmailJob(deps: AuthDeps): JobHandler<'email'> {
  return {
    build: (job) => composeLinkEmail(deps, job),
    deliver: (message, idempotencyKey) => deps.mailer.send(message, { idempotencyKey }),
  }
}

/**
 * The email for a queued link, or why it is not sent. The token is minted now, from the fields
 * recorded when the request was accepted: the same bytes every attempt, and nothing secret was
 * ever stored. A link that could no longer work is not sent.
 *
 * Every request by email leaves a row like every other, and each row costs the same claim and
 * the same user lookup, an unknown address's included: whether an address gets an email is
 * decided here, not when the request was answered, so the work that follows a request does not
 * depend on the address (DESIGN security 14). What remains different is the email itself.
 * (So a link asked for while its user was disabled is sent if an operator enables the user
 * before the worker gets to it: it is minted for the user as they are when it is sent.)
 */
async function composeLinkEmail(deps: AuthDeps, job: Job<'email'>): Promise<Outcome<MailMessage>> {
  const { config, clock, keyring, store } = deps
  const { payload } = job
  const user = await store.findById(job.userId ?? NO_USER)
  // Every row asks the suppression list too, an unknown address's included (the same work):
  // for its inbox (complaints, "this wasn't me") and its exact mailbox (bounces).
  const now = clock()
  const [inbox, mailbox] = suppressionKeys(job.recipient)
  const byInbox = await store.activeSuppression(inbox, now)
  const byMailbox = await store.activeSuppression(mailbox, now)
  const paused = byInbox ?? byMailbox
  if (job.userId === null) return { suppress: 'unknown_address' }
  // "This wasn't me" (and later bounces): the requester was answered as always; nothing goes.
  if (paused) return { suppress: paused.reason }
  const fields = {
    purpose: payload.purpose === Purpose.Access ? Purpose.Access : Purpose.Login,
    flags: payload.flags,
    userId: job.userId,
    expiresAt: payload.expiresAt,
    rev: payload.rev,
    seq: payload.seq,
  }
  const refused = refusal(user, fields, toSeconds(clock()))
  if (refused) return refused
  // Checked again as it is sent: a row queued before targets were canonicalised (or before its
  // origin left ALLOWED_REDIRECTS) gets the spelling verifiers compare with, or is not sent.
  let redirect: string | undefined
  try {
    redirect =
      payload.redirect === undefined
        ? undefined
        : checkRedirect(payload.redirect, config.allowedRedirects)
  } catch {
    return { drop: 'the redirect target is no longer allowed' }
  }
  const token = keyring.mint(fields, { scope: payload.scope, redirect, ip: payload.ip })
  const oneTime = hasFlag(payload.flags, Flag.OneTime)
  const report = mintReportToken(deps, {
    ...fields,
    issuedAt: payload.expiresAt - payload.ttlSeconds,
  })
  const send = deps.emails.render(
    {
      to: job.recipient,
      link: buildLink(config.publicUrl, token, redirect),
      reportLink: buildReportLink(config.publicUrl, report),
      appName: config.mail.appName,
      ttlSeconds: payload.ttlSeconds,
      oneTime,
      // A one-time login link's code, from the same row (see tokens/code.ts): single-use with it.
      // An IP-bound link gets none: a code carries no IP to check, so it would sign in from
      // anywhere and undo the binding.
      code:
        fields.purpose === Purpose.Login && oneTime && payload.ip === undefined
          ? groupCode(deriveCode(keyring.codeKeys[0] as Buffer, fields))
          : undefined,
    },
    // The language of whoever asked (the form's page, or the API's `locale`), still on offer.
    deps.texts.translator(payload.locale),
  )
  return { send }
}

/**
 * Why the link would not work now, as verifying it would say (check-user.ts), or undefined. The
 * recipient comes first: a deleted user's row is dropped, a disabled user's suppressed. Then
 * the link itself: expired, before revoked or spent.
 */
function refusal(
  user: User | undefined,
  fields: Omit<TokenFields, 'kid'>,
  nowSeconds: number,
): Outcome<never> | undefined {
  const expired = fields.expiresAt <= nowSeconds
  try {
    assertCurrent(user, fields)
  } catch (error) {
    if (error instanceof TokenInvalid) return { drop: 'the user was deleted' }
    if (error instanceof UserDisabled) return { suppress: 'user_disabled' }
    if (expired) return EXPIRED
    if (error instanceof TokenRevoked) return { drop: 'the user was revoked' }
    if (error instanceof TokenUsed) {
      return { drop: 'the link was voided: another link was used first' }
    }
    throw error
  }
  return expired ? EXPIRED : undefined
}
