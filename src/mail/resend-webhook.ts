import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Resend's webhooks are sent by Svix: `svix-id`, `svix-timestamp` (seconds) and `svix-signature`
 * (space-separated `v1,<base64 HMAC-SHA256>` entries, several while a secret rotates) over
 * `id.timestamp.body`, keyed by the `whsec_<base64>` signing secret. That is the Standard Webhooks
 * scheme under other header names (computed below with node:crypto, held to the
 * standardwebhooks library's answer by a test).
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

/** The HMAC key of a `whsec_<base64>` secret (a bare base64 one too), decoded once. */
const keys = new Map<string, Buffer>()
function signingKey(secret: string): Buffer {
  let key = keys.get(secret)
  if (!key) {
    key = Buffer.from(
      secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret,
      'base64',
    )
    keys.set(secret, key)
  }
  return key
}

/**
 * Checks a callback against the signing secret, on the raw bytes as received: undefined when it
 * is Resend's, and otherwise why not (for the log; the caller answers alike whatever it is).
 *
 * The standardwebhooks library's `verify` judges the timestamp by the system's clock, and its
 * HMAC is plain JavaScript (about 20 times node's over a large body, on a route anyone can post
 * to); so the scheme is computed here with node:crypto, the timestamp judged by our injected
 * clock, and the comparison is node's constant-time one, after a length check. A test holds it
 * to the library's answer.
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
    createHmac('sha256', signingKey(secret))
      .update(`${id}.${seconds}.`)
      .update(body)
      .digest('base64'),
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

/** Resend's email ids (UUIDs today): what could be one, and nothing a database would refuse. */
const EMAIL_ID = /^[\w-]{1,256}$/

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
  if (!isObject(data) || typeof data.email_id !== 'string' || !EMAIL_ID.test(data.email_id)) {
    return undefined
  }
  const bounce = isObject(data.bounce) ? data.bounce : {}
  return {
    type: type as ResendEventType,
    emailId: data.email_id,
    // Absent is Resend's plain "bounced"; present but unreadable is not a type we can trust.
    bounceType: bounce.type === undefined ? undefined : (word(bounce.type) ?? 'unreadable'),
    bounceSubType: word(bounce.subType),
  }
}
