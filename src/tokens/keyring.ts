import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import { IpMismatch, TokenExpired, TokenInvalid } from '../errors.js'
import {
  CONTEXT_FLAGS,
  contextFlags,
  decodeToken,
  encodeBody,
  encodeContext,
  encodeToken,
  Flag,
  hasFlag,
  MAC_BYTES,
  Purpose,
  type TokenContext,
  type TokenFields,
} from './codec.js'

export interface LinkSecret {
  kid: number
  secret: Buffer
}

export const MIN_SECRET_BYTES = 32

export interface OpenOptions {
  /**
   * Accept a token past its expiry (its MAC still checked, and a claimed lifetime longer than
   * the purpose's largest TTL still refused), for a caller that judges the expiry itself: a
   * link's opener (auth/verify-link.ts), whose expired link's page still names its user and may
   * offer a new one.
   */
  allowExpired?: boolean
}

/**
 * The link-token keys. Each secret yields one HMAC key per purpose (HKDF), derived once here, so
 * a refresh token can never pass as a login link even under the same secret. The first secret
 * signs; the others still verify, which is how rotation works: add a new secret first, drop the
 * old one once its longest-lived tokens have expired.
 */
export class KeyRing {
  readonly #keys = new Map<number, Map<Purpose, Buffer>>()
  readonly signingKid: number
  /**
   * A key for stable pseudonyms (see auth/pseudonym.ts), derived from the signing secret under
   * its own HKDF label, so it can never sign or verify a token.
   */
  readonly pseudonymKey: Buffer
  /** Signs the hosted pages' cookies (browser binding, CSRF), under its own HKDF label. */
  readonly cookieKey: Buffer
  /**
   * The sign-in code keys (tokens/code.ts), one per secret under its own HKDF label, the signing
   * secret's first: emails carry a code of the first, and a code of any of them verifies, so a
   * rotation does not kill the codes already sent, as it does not kill their links.
   */
  readonly codeKeys: readonly Buffer[]

  constructor(secrets: readonly LinkSecret[]) {
    const first = secrets[0]
    if (!first) throw new TypeError('the key ring needs at least one secret')
    for (const { kid, secret } of secrets) {
      if (this.#keys.has(kid)) throw new TypeError(`duplicate link secret kid ${kid}`)
      if (secret.length < MIN_SECRET_BYTES) {
        throw new TypeError(`link secret ${kid} is shorter than ${MIN_SECRET_BYTES} bytes`)
      }
      const perPurpose = new Map<Purpose, Buffer>()
      for (const purpose of Object.values(Purpose)) {
        perPurpose.set(purpose, deriveKey(secret, purpose))
      }
      this.#keys.set(kid, perPurpose)
    }
    this.signingKid = first.kid
    this.pseudonymKey = Buffer.from(
      hkdfSync('sha256', first.secret, 'latchkey', 'latchkey/v1/pseudonym', 32),
    )
    this.cookieKey = Buffer.from(
      hkdfSync('sha256', first.secret, 'latchkey', 'latchkey/v1/cookie', 32),
    )
    this.codeKeys = secrets.map(({ secret }) =>
      Buffer.from(hkdfSync('sha256', secret, 'latchkey', 'latchkey/v1/code', 32)),
    )
  }

  /** Mints a token with the signing key. Context flags are set from the context given. */
  mint(fields: Omit<TokenFields, 'kid'>, context: TokenContext = {}): string {
    const flags = (fields.flags & ~CONTEXT_FLAGS) | contextFlags(context)
    const body = encodeBody({ ...fields, kid: this.signingKid, flags })
    const key = this.#key(this.signingKid, fields.purpose)
    return encodeToken(body, mac(key as Buffer, body, encodeContext(flags, context)))
  }

  /**
   * Everything that can be checked without the database, cheapest first: shape, version, purpose,
   * kid, MAC, expiry. A forged or altered token therefore never costs a lookup. The counters and
   * the user's status are the caller's to check afterwards.
   *
   * `accept` names the purposes the caller takes, each with the longest TTL this service issues
   * for it: a token that claims to live longer (minted under a leaked secret, or under a once
   * larger TTL) is refused rather than trusted for years.
   */
  open(
    token: string,
    accept: Partial<Record<Purpose, number>>,
    context: TokenContext,
    nowSeconds: number,
    { allowExpired = false }: OpenOptions = {},
  ): TokenFields {
    const { fields, body, mac: presented } = decodeToken(token)
    const maxTtlSeconds = accept[fields.purpose]
    const key = this.#key(fields.kid, fields.purpose)
    if (maxTtlSeconds === undefined || !key) throw new TokenInvalid()
    // A value the token does not bind must not be accepted as if it did: an unscoped link must
    // not pass a check for a scope, nor a link without a target a check for a target.
    if (context.scope !== undefined && !hasFlag(fields.flags, Flag.HasScope)) {
      throw new TokenInvalid()
    }
    if (context.redirect !== undefined && !hasFlag(fields.flags, Flag.HasRedirect)) {
      throw new TokenInvalid()
    }
    // Nor a token bound to no client as one bound to this one: refresh tokens of the shape that
    // named the user and no client are refused this way.
    if (context.client !== undefined && !hasFlag(fields.flags, Flag.HasClient)) {
      throw new TokenInvalid()
    }
    const expected = mac(key, body, encodeContext(fields.flags, context))
    // Both are MAC_BYTES long by construction; timingSafeEqual would throw otherwise.
    if (!timingSafeEqual(expected, presented)) {
      // The MAC covers the client IP, so a wrong IP and a forgery look the same. For a token
      // that is IP-bound and checked against a presented IP, a different network is by far the
      // likelier cause, and the label gives a forger nothing: the flag is theirs to read or set.
      // Without a presented IP nothing was compared, so it stays token_invalid.
      if (hasFlag(fields.flags, Flag.IpBound) && context.ip !== undefined) throw new IpMismatch()
      throw new TokenInvalid()
    }
    if (fields.expiresAt <= nowSeconds && !allowExpired) {
      const expired = new TokenExpired()
      expired.subject = fields.userId
      throw expired
    }
    if (fields.expiresAt > nowSeconds + maxTtlSeconds) throw new TokenInvalid()
    return fields
  }

  #key(kid: number, purpose: Purpose): Buffer | undefined {
    return this.#keys.get(kid)?.get(purpose)
  }
}

function deriveKey(secret: Buffer, purpose: Purpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'latchkey', `latchkey/v1/${purpose}`, 32))
}

function mac(key: Buffer, body: Buffer, context: Buffer): Buffer {
  return createHmac('sha256', key).update(body).update(context).digest().subarray(0, MAC_BYTES)
}
