import { timingSafeEqual } from 'node:crypto'
import { Webhook } from 'standardwebhooks'

/**
 * Resend's webhooks are sent by Svix: `svix-id`, `svix-timestamp` (seconds) and `svix-signature`
 * (space-separated `v1,<base64 HMAC-SHA256>` entries, several while a secret rotates) over
 * `id.timestamp.body`, keyed by the `whsec_<base64>` signing secret. That is the Standard Webhooks
 * scheme under other header names, so the standardwebhooks library computes the signature.
 */
export interface SvixHeaders {
  id: string | undefined
  timestamp: string | undefined
  signature: string | undefined
}

/** How far a callback's timestamp may be from our clock, either way: Svix's own 5 minutes. */
export const TOLERANCE_SECONDS = 5 * 60

/** The longest callback id accepted (Svix's are `msg_` and 27 characters). */
const MAX_ID = 256

/**
 * Checks a callback against the signing secret, on the raw bytes as received: undefined when it
 * is Resend's, and otherwise why not (for the log; the caller answers alike whatever it is).
 *
 * The library's own `verify` judges the timestamp by the system's clock; ours is injected (tests
 * move it), so the timestamp is judged here and the library only signs: its `sign` is the
 * scheme, and the comparison is node's constant-time one, after a length check.
 */
export function svixRejection(
  secret: string,
  headers: SvixHeaders,
  body: Buffer,
  nowMs: number,
): string | undefined {
  const { id, timestamp, signature } = headers
  if (!id || !timestamp || !signature) return 'unsigned'
  if (id.length > MAX_ID || !/^[\x21-\x7e]+$/.test(id)) return 'malformed id'
  if (!/^\d{1,12}$/.test(timestamp)) return 'malformed timestamp'
  const seconds = Number(timestamp)
  if (Math.abs(Math.floor(nowMs / 1000) - seconds) > TOLERANCE_SECONDS) return 'stale'
  const expected = Buffer.from(
    new Webhook(secret).sign(id, new Date(seconds * 1000), body).slice('v1,'.length),
  )
  for (const entry of signature.split(' ')) {
    const [version, value] = entry.split(',', 2)
    if (version !== 'v1' || value === undefined) continue
    const given = Buffer.from(value)
    if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined
  }
  return 'bad signature'
}

/** The callbacks latchkey acts on; Resend sends others too, if subscribed (opened, clicked …). */
export const RESEND_EVENT_TYPES = [
  'email.delivered',
  'email.delivery_delayed',
  'email.bounced',
  'email.complained',
] as const

export type ResendEventType = (typeof RESEND_EVENT_TYPES)[number]

/** What latchkey reads of one callback; the rest (subject, tags, addresses) it leaves alone. */
export type ResendEvent =
  | {
      type: ResendEventType
      /** Resend's id of the email: what the transport recorded as the provider id. */
      emailId: string
      /** email.bounced only: `Permanent`, `Transient`, `Undetermined` (as Amazon SES says). */
      bounceType?: string | undefined
      bounceSubType?: string | undefined
    }
  | { type: 'other'; name: string }

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** A short word from the payload, or undefined: nothing longer goes into an event. */
const word = (value: unknown): string | undefined =>
  typeof value === 'string' && /^[\w .-]{1,64}$/.test(value) ? value : undefined

/**
 * Reads a verified callback's JSON: `{type, created_at, data: {email_id, to, bounce?: {type,
 * subType, message}}}`. Undefined when it is not JSON, or lacks what its type needs.
 */
export function parseResendEvent(body: Buffer): ResendEvent | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
  if (!isObject(parsed) || typeof parsed.type !== 'string') return undefined
  const type = parsed.type
  if (!(RESEND_EVENT_TYPES as readonly string[]).includes(type)) {
    return { type: 'other', name: word(type) ?? 'unknown' }
  }
  const data = parsed.data
  if (!isObject(data) || typeof data.email_id !== 'string' || data.email_id === '') {
    return undefined
  }
  const bounce = isObject(data.bounce) ? data.bounce : {}
  return {
    type: type as ResendEventType,
    emailId: data.email_id,
    bounceType: word(bounce.type),
    bounceSubType: word(bounce.subType),
  }
}
