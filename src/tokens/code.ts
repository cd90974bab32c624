import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The sign-in code printed beside the link in every one-time login email: 8 symbols of Crockford's
 * base32 (no I, L, O or U), 40 bits, shown as `K7QM-4TZP`.
 *
 * It is derived, never stored: the first 40 bits of HMAC-SHA256(code key, user id ‖ expires_at ‖
 * rev ‖ seq), the fields the outbox row of the email keeps. So it is valid exactly as long as the
 * link minted from the same row (same expiry, same counters), and the compare-and-increment of
 * `seq` that spends the link spends the code too. The code key is its own HKDF subkey of each
 * link secret (see KeyRing.codeKeys), so a code can never be computed from, or pass as, a token.
 *
 * 40 bits alone would not stop a patient guesser; the guess budget does (auth/verify-code.ts).
 */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
export const CODE_LENGTH = 8

/** What a code is derived from: the fields of the link's outbox row. */
export interface CodeFields {
  /** Canonical UUID string. */
  userId: string
  /** Seconds since the Unix epoch. */
  expiresAt: number
  rev: number
  seq: number
}

/** The 8-symbol code (ungrouped) of `fields` under `key`. */
export function deriveCode(key: Buffer, fields: CodeFields): string {
  const input = Buffer.alloc(16 + 8 + 4 + 4)
  Buffer.from(fields.userId.replaceAll('-', ''), 'hex').copy(input, 0)
  input.writeBigUInt64BE(BigInt(fields.expiresAt), 16)
  input.writeUInt32BE(fields.rev, 24)
  input.writeUInt32BE(fields.seq, 28)
  const mac = createHmac('sha256', key).update(input).digest()
  // The first 40 bits, five at a time: exactly 8 symbols, no bias (32 is a power of two).
  let bits = 0n
  for (let i = 0; i < 5; i++) bits = (bits << 8n) | BigInt(mac[i] as number)
  let code = ''
  for (let i = CODE_LENGTH - 1; i >= 0; i--) {
    code += CODE_ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)]
  }
  return code
}

/** `K7QM4TZP` → `K7QM-4TZP`: two groups of four are easier to read out and to type. */
export function groupCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`
}

const ALIASES: Record<string, string> = { O: '0', I: '1', L: '1' }
const SHAPE = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`)

/**
 * A code as a person typed it, in its canonical form, or undefined when it cannot be one: upper
 * case, spaces and hyphens dropped, and the letters people read for digits (O for 0, I and L for
 * 1) taken as those digits, as Crockford's base32 prescribes.
 */
export function normaliseCode(input: string): string | undefined {
  // Bounded before any work: a code is 8 symbols, a generous typing of it some more.
  if (input.length > 64) return undefined
  const code = input
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[OIL]/g, (c) => ALIASES[c] as string)
  return SHAPE.test(code) ? code : undefined
}

/** Whether two canonical codes are equal, in time that does not depend on where they differ. */
export function sameCode(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
