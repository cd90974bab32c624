import { createHmac } from 'node:crypto'

// Pseudonymous ids carry a UUIDv7 timestamp inside this window: a plausible creation time that
// is the same on every request for the same address.
const WINDOW_START = Date.UTC(2024, 0, 1)
const WINDOW_MS = Date.UTC(2026, 0, 1) - WINDOW_START

/**
 * A stable, UUIDv7-shaped id for an address that has no user, so that answering a link request
 * for it looks like answering one for a real user: same shape, same id on every request. Keyed,
 * so nobody without the service's secret can compute or recognise it.
 */
export function pseudonymousId(key: Buffer, email: string): string {
  const hash = createHmac('sha256', key).update(email.toLowerCase()).digest()
  const bytes = Buffer.alloc(16)
  const ms = WINDOW_START + (hash.readUIntBE(0, 6) % WINDOW_MS)
  bytes.writeUIntBE(ms, 0, 6)
  hash.copy(bytes, 6, 6, 16)
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f)
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
