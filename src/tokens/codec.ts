import { TokenInvalid } from '../errors.js'

/**
 * The v1 link token: 48 bytes, base64url without padding (64 characters).
 *
 *   0 version · 1 purpose · 2 kid · 3 flags · 4..20 id · 20..24 expires_at (s, BE)
 *   24..28 rev · 28..32 seq · 32..48 mac
 *
 * The id is the user's, except in a refresh token, where it is the session's and seq is the
 * session's refresh sequence.
 *
 * This file knows the layout only; the MAC is the key ring's business.
 */
export const VERSION = 1
export const TOKEN_BYTES = 48
export const TOKEN_CHARS = 64
export const BODY_BYTES = 32
export const MAC_BYTES = 16

export const Purpose = {
  Login: 1,
  Access: 2,
  Refresh: 3,
  Exchange: 4,
  /** "This wasn't me": names the user of a sign-in email; never signs in. */
  Report: 5,
} as const
export type Purpose = (typeof Purpose)[keyof typeof Purpose]

export const Flag = {
  OneTime: 1 << 0,
  IpBound: 1 << 1,
  BrowserBound: 1 << 2,
  HasRedirect: 1 << 3,
  HasScope: 1 << 4,
  /** Bound to a client: the API key a refresh token's session belongs to. */
  HasClient: 1 << 5,
} as const
const KNOWN_FLAGS = 0b111111
/** The flags that announce a bound context value. */
export const CONTEXT_FLAGS = Flag.HasScope | Flag.HasRedirect | Flag.IpBound | Flag.HasClient

export interface TokenFields {
  purpose: Purpose
  kid: number
  flags: number
  /** Canonical lower-case UUID string: the user's id, or a refresh token's session id. */
  userId: string
  /** Seconds since the Unix epoch. */
  expiresAt: number
  rev: number
  seq: number
}

/** What the token binds without carrying it; a verifier must present the same values. */
export interface TokenContext {
  scope?: string | undefined
  redirect?: string | undefined
  ip?: string | undefined
  /** The name of the API key a refresh token belongs to. */
  client?: string | undefined
}

const UINT32_MAX = 0xffffffff
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const BASE64URL_64 = /^[A-Za-z0-9_-]{64}$/

export const hasFlag = (flags: number, flag: number): boolean => (flags & flag) !== 0

/** The 32 signed bytes. Throws TypeError on out-of-range fields: that is a caller's bug. */
export function encodeBody(fields: TokenFields): Buffer {
  const { purpose, kid, flags, userId, expiresAt, rev, seq } = fields
  if (!Object.values(Purpose).includes(purpose)) throw new TypeError(`bad purpose ${purpose}`)
  if (!isByte(kid)) throw new TypeError(`kid must be 0..255, got ${kid}`)
  if (!isByte(flags) || (flags & ~KNOWN_FLAGS) !== 0) throw new TypeError(`bad flags ${flags}`)
  if (!UUID.test(userId)) throw new TypeError('userId must be a lower-case UUID')
  for (const [name, value] of [
    ['expiresAt', expiresAt],
    ['rev', rev],
    ['seq', seq],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
      throw new TypeError(`${name} must be a uint32, got ${value}`)
    }
  }
  const body = Buffer.alloc(BODY_BYTES)
  body[0] = VERSION
  body[1] = purpose
  body[2] = kid
  body[3] = flags
  body.write(userId.replaceAll('-', ''), 4, 16, 'hex')
  body.writeUInt32BE(expiresAt, 20)
  body.writeUInt32BE(rev, 24)
  body.writeUInt32BE(seq, 28)
  return body
}

export interface DecodedToken {
  fields: TokenFields
  body: Buffer
  mac: Buffer
}

/**
 * Parses the wire form. Only the canonical encoding is accepted: exactly 64 characters of the
 * base64url alphabet, which is the one string that re-encodes to itself (48 bytes leave no spare
 * bits), so a token has exactly one spelling and cannot be varied to dodge a log or cache key.
 */
export function decodeToken(token: string): DecodedToken {
  if (typeof token !== 'string' || token.length !== TOKEN_CHARS || !BASE64URL_64.test(token)) {
    throw new TokenInvalid()
  }
  const bytes = Buffer.from(token, 'base64url')
  if (bytes.length !== TOKEN_BYTES || bytes.toString('base64url') !== token) {
    throw new TokenInvalid()
  }
  const purpose = bytes[1] as Purpose
  const flags = bytes[3] as number
  if (bytes[0] !== VERSION || !Object.values(Purpose).includes(purpose)) throw new TokenInvalid()
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new TokenInvalid()
  const hex = bytes.toString('hex', 4, 20)
  return {
    fields: {
      purpose,
      kid: bytes[2] as number,
      flags,
      userId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      expiresAt: bytes.readUInt32BE(20),
      rev: bytes.readUInt32BE(24),
      seq: bytes.readUInt32BE(28),
    },
    body: bytes.subarray(0, BODY_BYTES),
    mac: bytes.subarray(BODY_BYTES),
  }
}

export function encodeToken(body: Buffer, mac: Buffer): string {
  if (body.length !== BODY_BYTES || mac.length !== MAC_BYTES) throw new TypeError('bad token parts')
  return Buffer.concat([body, mac]).toString('base64url')
}

/** The flags a token gets for the context it binds. */
export function contextFlags(context: TokenContext): number {
  return (
    (context.scope !== undefined ? Flag.HasScope : 0) |
    (context.redirect !== undefined ? Flag.HasRedirect : 0) |
    (context.ip !== undefined ? Flag.IpBound : 0) |
    (context.client !== undefined ? Flag.HasClient : 0)
  )
}

/**
 * The bytes appended to the MAC input: for each context flag set, in the order scope, redirect,
 * IP, client, a 2-byte big-endian length and the UTF-8 bytes. Values the flags do not announce are left
 * out, so presenting an IP for a token that is not IP-bound changes nothing. A value the flags
 * announce but the verifier does not present is encoded as absent, which can never match: the MAC
 * then fails, as it must.
 */
export function encodeContext(flags: number, context: TokenContext): Buffer {
  const parts: Buffer[] = []
  const add = (flag: number, value: string | undefined) => {
    if (!hasFlag(flags, flag)) return
    if (value === undefined) {
      parts.push(Buffer.from([0xff, 0xff]))
      return
    }
    const bytes = Buffer.from(value, 'utf8')
    if (bytes.length >= 0xffff) throw new TokenInvalid('A token context value is too long.')
    const length = Buffer.alloc(2)
    length.writeUInt16BE(bytes.length)
    parts.push(length, bytes)
  }
  add(Flag.HasScope, context.scope)
  add(Flag.HasRedirect, context.redirect)
  add(Flag.IpBound, context.ip)
  add(Flag.HasClient, context.client)
  return Buffer.concat(parts)
}

function isByte(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 255
}
