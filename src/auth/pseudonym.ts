import { createHmac } from 'node:crypto'

/**
 * The key under which an address without a user gets its stable stand-in id. Keyed, so the
 * stored value reveals no address, and nobody without the service's secret can compute it.
 */
export function phantomKey(key: Buffer, email: string): string {
  return createHmac('sha256', key).update(email.toLowerCase()).digest('base64url')
}
