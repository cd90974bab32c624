import { createHmac } from 'node:crypto'
import { inboxOf } from './inbox.js'

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
 * It counts by inbox rather than by spelling (see inboxOf).
 */
export function recipientKey(key: Buffer, email: string): string {
  return createHmac('sha256', key)
    .update('latchkey/rate-limit/recipient\0')
    .update(inboxOf(email))
    .digest('base64url')
}

/**
 * The key of an inbox's sign-in code guess counter: keyed like recipientKey, under a label of its
 * own, so the code budget and the email budget are two counters that cannot be told to be one
 * inbox's, and Redis never holds an address.
 */
export function codeGuessKey(key: Buffer, email: string): string {
  return createHmac('sha256', key)
    .update('latchkey/rate-limit/code\0')
    .update(inboxOf(email))
    .digest('base64url')
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
