import { InvalidRequest, NotFound, Unauthorized } from '../errors.js'
import {
  parseResendEvent,
  type ResendEvent,
  type SvixHeaders,
  svixRejection,
} from '../mail/resend-webhook.js'
import { SYSTEM } from '../store/audit.js'
import type { DeliveryReport } from '../store/deliveries.js'
import type { OutboxMessage } from '../store/outbox.js'
import type { AuthDeps } from './deps.js'
import { inboxOf, mailboxOf } from './inbox.js'

/**
 * What became of a callback: `recorded`; `duplicate` (its id was processed before: a retry, or a
 * replay); `unknown_email` (no email of ours has that id: another sender on the same Resend
 * account, or a row already pruned); `ignored` (a type latchkey does not act on). Each is a 2xx:
 * Resend retries anything else for hours, and none of these would go better the second time.
 */
export type FeedbackResult = 'recorded' | 'duplicate' | 'unknown_email' | 'ignored'

/**
 * How long a processed callback's id is kept: longer than Svix keeps retrying one (about a day
 * and a half), so a retry of a callback we did process, re-signed with a fresh timestamp, is
 * still known. An older replay is refused by its timestamp anyway.
 */
export const PROVIDER_EVENT_RETENTION_MS = 3 * 24 * 3600_000

/**
 * A delivery callback from Resend (POST /v1/webhooks/resend). The signature is checked on the
 * raw bytes before anything of the body is read, and the timestamp by our clock: an unsigned,
 * forged or stale callback is refused (401) and changes nothing (DESIGN requirement 20). Only
 * then is the body parsed. The email is found by Resend's id, which the transport recorded when
 * Resend accepted it; its row, its event and a suppression are written in one transaction, once
 * per callback id.
 */
export async function receiveResendWebhook(
  deps: Pick<AuthDeps, 'config' | 'store' | 'clock'>,
  callback: { headers: SvixHeaders; body: Buffer },
): Promise<FeedbackResult> {
  const secret = deps.config.mail.resendWebhookSecret
  // Off unless configured: a callback nobody can verify must not be acted on, and there is
  // nothing here for anyone to find (404, as /docs when it is off).
  if (secret === undefined) throw new NotFound('Resend webhooks are not enabled here.')
  const now = deps.clock()
  // Which check failed stays unsaid (and uncaptured: a forged callback costs no stack trace).
  if (svixRejection(secret, callback.headers, callback.body, now) !== undefined) {
    throw new Unauthorized('The webhook signature is missing, wrong or too old.')
  }
  const event = parseResendEvent(callback.body)
  if (event === undefined) throw new InvalidRequest('The body is not a Resend email event.')
  if (event.type === 'other') return 'ignored'
  const message = await deps.store.findByProviderId(event.emailId)
  if (message === undefined) return 'unknown_email'
  const report = deliveryReport(callback.headers.id as string, event, message, now)
  return (await deps.store.recordDelivery(report, now, SYSTEM)) ? 'recorded' : 'duplicate'
}

/**
 * What one callback does to its email. A hard bounce (Resend's email.bounced is a permanent
 * rejection, so one without a type counts as hard) stops email to that exact mailbox for good;
 * any complaint stops it to the inbox, every spelling of the address, as the recipient budget
 * counts them (inbox.ts). A soft
 * bounce (`Transient`, or `Undetermined`: we do not give up an inbox on a guess) is recorded
 * and suppresses nothing. A delay only marks the row. Events carry the row and what the provider
 * said of the bounce, never the content, the address or the provider's diagnostic text (it
 * quotes the address).
 */
function deliveryReport(
  eventId: string,
  event: Extract<ResendEvent, { emailId: string }>,
  message: OutboxMessage,
  now: number,
): DeliveryReport {
  const base = { eventId, messageId: message.id }
  // A complaint came from a person who got the email: their inbox, every spelling. A bounce
  // names one mailbox that does not exist, and only that one (see mailboxOf).
  const suppress = (reason: 'bounced' | 'complained') => ({
    address: reason === 'bounced' ? mailboxOf(message.recipient) : inboxOf(message.recipient),
    email: message.recipient,
    reason,
    createdAt: now,
    expiresAt: null,
  })
  switch (event.type) {
    case 'email.delivered':
      return { ...base, outcome: 'delivered', event: { type: 'email.delivered', detail: {} } }
    case 'email.delivery_delayed':
      return { ...base, outcome: 'delayed' }
    case 'email.complained':
      return {
        ...base,
        outcome: 'complained',
        event: { type: 'email.complained', detail: {} },
        suppression: suppress('complained'),
      }
    case 'email.bounced': {
      const permanent =
        event.bounceType === undefined || event.bounceType.toLowerCase() === 'permanent'
      const detail = {
        permanent,
        bounce_type: event.bounceType ?? null,
        bounce_subtype: event.bounceSubType ?? null,
      }
      return {
        ...base,
        outcome: permanent ? 'bounced' : 'soft_bounced',
        event: { type: 'email.bounced', detail },
        suppression: permanent ? suppress('bounced') : undefined,
      }
    }
  }
}

/** Forgets callback ids past PROVIDER_EVENT_RETENTION_MS (housekeeping). */
export async function pruneProviderEvents(
  deps: Pick<AuthDeps, 'store' | 'clock'>,
  log: { info(fields: object, message: string): void },
): Promise<number> {
  const callbacks = await deps.store.pruneProviderEvents(deps.clock() - PROVIDER_EVENT_RETENTION_MS)
  if (callbacks > 0) log.info({ callbacks }, 'old provider callback ids deleted')
  return callbacks
}
