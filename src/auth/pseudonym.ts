import { createHmac } from 'node:crypto'

/**
 * The key under which an address without a user gets its stable stand-in id. Keyed, so the
 * stored value reveals no address, and nobody without the service's secret can compute it.
 */
export function phantomKey(key: Buffer, email: string): string {
  return createHmac('sha256', key).update(email.toLowerCase()).digest('base64url')
}

/**
 * The key of an address's email rate-limit counter. Keyed like phantomKey, and separated from it,
 * so a counter's key and a phantom row's key never match: one cannot be found from the other.
 * It counts by inbox rather than by spelling: lower-cased, and without a `+tag` in the local part
 * (`ada+1@x` and `ada+2@x` are two users but one inbox to flood). Counting a few distinct
 * mailboxes together is harmless; letting one inbox take many budgets is not.
 */
export function recipientKey(key: Buffer, email: string): string {
  return createHmac('sha256', key)
    .update('latchkey/rate-limit/recipient\0')
    .update(inboxOf(email))
    .digest('base64url')
}

/** `Ada+news@Example.com` → `ada@example.com`: the inbox an address delivers to. */
function inboxOf(email: string): string {
  const lower = email.toLowerCase()
  const at = lower.lastIndexOf('@')
  const plus = lower.indexOf('+')
  // A local part that starts with + (`+tag@x`) is an address of its own, kept whole.
  if (at === -1 || plus <= 0 || plus > at) return lower
  return lower.slice(0, plus) + lower.slice(at)
}

/**
 * The key of a client address's rate-limit counter: keyed like the others, so a counter store
 * (Redis) holds no client addresses either.
 */
export function clientKey(key: Buffer, address: string): string {
  return createHmac('sha256', key)
    .update('latchkey/rate-limit/client\0')
    .update(address)
    .digest('base64url')
}
