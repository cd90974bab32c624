import Type from 'typebox'
import Value from 'typebox/value'
import * as parse from './parsers.js'
import { weakSecretReason } from './secret-strength.js'
import { type Report, row } from './setting.js'

/** How to make a secret, for every message about a missing or unusable one. */
const MAKE_SECRET =
  'generate one with `echo whsec_$(openssl rand -base64 32)` and give receivers the same'

/** Hosts a webhook may reach over plain http: this machine only, and never in production. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * A receiver's address: https, or http to this machine (a receiver under development; production
 * refuses it, checks.ts). No user name or password: fetch refuses to send them, and they would
 * sit in every outbox row. No fragment: it is never sent.
 */
export function isWebhookUrl(value: string): boolean {
  try {
    const url = new URL(value)
    if (url.username !== '' || url.password !== '' || url.hash !== '' || value.includes('#')) {
      return false
    }
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))
  } catch {
    return false
  }
}

/** An event type (`user.revoked`) or every type under a prefix (`user.*`); `*` is every type. */
const EventPattern = Type.String({ pattern: '^(\\*|[a-z][a-z_]*(\\.[a-z][a-z_]*)*(\\.\\*)?)$' })

/** `whsec_` and standard base64 (the Standard Webhooks spelling), checked by `webhookSecret`. */
const SecretSchema = Type.String({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$' })

/**
 * 24 to 64 random bytes, as the Standard Webhooks specification asks, in canonical base64 (a
 * stray bit in the last character would make receivers and us disagree on nothing visible).
 */
function webhookSecret(value: string, report: Report): void {
  const encoded = value.slice('whsec_'.length)
  const bytes = Buffer.from(encoded, 'base64')
  if (bytes.toString('base64') !== encoded) {
    report.problem(`not in canonical base64 after whsec_; ${MAKE_SECRET}`)
    return
  }
  if (bytes.length < 24 || bytes.length > 64) {
    report.problem(`holds ${bytes.length} bytes, not 24 to 64; ${MAKE_SECRET}`)
    return
  }
  const weakness = weakSecretReason(bytes)
  if (weakness !== undefined) report.problem(`${weakness}; ${MAKE_SECRET}`)
}

/** The rows of outgoing webhooks (settings.ts keeps the table). */
export const WEBHOOK_SETTINGS = {
  WEBHOOK_URLS: row({
    path: 'webhooks/urls',
    schema: Type.Array(Type.String({ pattern: '^https?://' })),
    parse: parse.list(isWebhookUrl),
    unset: [],
    refine: (urls: string[], report: Report) => {
      const twice = urls.filter((url, i) => urls.indexOf(url) !== i)
      // Each URL gets its own delivery of every event: one listed twice would get each twice.
      if (twice.length > 0) report.problem(`${twice[0]} is listed twice; list each receiver once`)
    },
    expected: {
      is: 'a webhook URL',
      fix: 'list https:// URLs, comma-separated (http:// only to localhost, outside production), without user name or password',
    },
    doc: 'receivers of signed [webhooks](#webhooks), comma-separated `https://` URLs',
  }),
  WEBHOOK_SECRET: row({
    path: 'webhooks/secret',
    schema: SecretSchema,
    optional: true,
    secret: true,
    refine: webhookSecret,
    expected: { is: 'a webhook secret', fix: `use whsec_ and base64; ${MAKE_SECRET}` },
    doc: '`whsec_…` (Standard Webhooks) signing key; required with `WEBHOOK_URLS`',
  }),
  WEBHOOK_EVENTS: row({
    path: 'webhooks/events',
    schema: Type.Array(EventPattern, { minItems: 1 }),
    parse: parse.list((item) => Value.Check(EventPattern, item)),
    default: 'user.*,session.ended,email.bounced,email.complained',
    expected: {
      is: 'an event type or prefix.*',
      fix: 'list event types (session.ended) or prefixes (user.*), comma-separated',
    },
    doc: 'event types sent as webhooks: exact types or `prefix.*`',
  }),
}
