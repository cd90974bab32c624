import { createPrivateKey, type KeyObject, randomUUID, sign as signBytes } from 'node:crypto'
import type { CryptoKey, JWK } from 'jose'
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
} from 'jose'
import { TokenExpired, TokenInvalid } from '../errors.js'

export interface SessionClaims {
  sub: string
  /** The client the session was opened for: the API key's name, or `hosted` (RFC 9068 client_id). */
  client_id: string
  /** The session (a row) the JWT belongs to: introspection checks it is still open. */
  sid: string
  email: string
  rev: number
  iat: number
  exp: number
  jti: string
}

export interface SessionOptions {
  issuer: string
  audience: string
  ttlSeconds: number
}

interface SessionKey {
  kid: string
  alg: SessionAlgorithm
  /** A node KeyObject: signing is node:crypto's synchronous `sign`, no WebCrypto round trip. */
  privateKey: KeyObject
  /** The protected header `{alg, kid, typ}`, JSON and base64url-encoded once at start-up. */
  encodedHeader: string
  publicKey: CryptoKey
  publicJwk: Readonly<JWK>
}

// RFC 9068 access-token type. Pinning it keeps an ID token or any other JWT signed by a key we
// publish from being replayed as a session.
const TYP = 'at+jwt'

// Far longer than any session JWT we sign (a few hundred characters). Anything bigger is refused
// before it is parsed, so garbage costs nothing.
const MAX_JWT_LENGTH = 8192

// Compact JWS, three base64url segments and nothing else. The decoder underneath tolerates
// whitespace and padding; refusing them here keeps one token to one spelling.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

// How far ahead of this instance's clock `iat` may be: another instance whose clock runs a little
// fast. It bounds how much longer than SESSION_TTL a token can be honoured.
const IAT_LEEWAY_SECONDS = 30

export class SessionKeys {
  readonly #signer: SessionKey
  readonly #byKid: ReadonlyMap<string, SessionKey>
  readonly #options: SessionOptions
  readonly #jwks: { keys: object[] }

  private constructor(keys: SessionKey[], options: SessionOptions) {
    const [signer] = keys
    if (signer === undefined) {
      throw new TypeError('SESSION_KEYS: at least one private JWK is required')
    }
    this.#signer = signer
    this.#byKid = new Map(keys.map((k) => [k.kid, k]))
    this.#options = { ...options }
    this.#jwks = Object.freeze({ keys: Object.freeze(keys.map((k) => k.publicJwk)) as object[] })
  }

  /**
   * Imports every private JWK once, at start-up; the hot path never imports a key. The first key
   * signs; every key is published and accepted, so a rotated-out signer keeps its live sessions
   * valid for as long as it stays in the ring.
   */
  static async load(privateJwks: readonly object[], options: SessionOptions): Promise<SessionKeys> {
    checkOptions(options)
    if (!Array.isArray(privateJwks)) throw new TypeError('SESSION_KEYS: expected an array of JWKs')
    const seen = new Set<string>()
    const keys: SessionKey[] = []
    for (const [index, jwk] of privateJwks.entries()) {
      const key = await importSessionKey(jwk, index)
      if (seen.has(key.kid)) throw new TypeError(`SESSION_KEYS: duplicate kid "${key.kid}"`)
      seen.add(key.kid)
      keys.push(key)
    }
    return new SessionKeys(keys, options)
  }

  /**
   * A JWT that lives SESSION_TTL, or less when `notAfter` (seconds since the Unix epoch: the end
   * of its session) comes sooner.
   */
  sign(
    subject: Pick<SessionClaims, 'sub' | 'client_id' | 'sid' | 'email' | 'rev'>,
    nowMs: number,
    notAfter = Number.POSITIVE_INFINITY,
  ): { jwt: string; expiresAt: number } {
    checkNow(nowMs)
    if (typeof subject.sub !== 'string' || subject.sub === '') {
      throw new TypeError('sign: sub must be a non-empty string')
    }
    if (typeof subject.client_id !== 'string' || subject.client_id === '') {
      throw new TypeError('sign: client_id must be a non-empty string')
    }
    if (typeof subject.sid !== 'string' || subject.sid === '') {
      throw new TypeError('sign: sid must be a non-empty string')
    }
    if (typeof subject.email !== 'string') throw new TypeError('sign: email must be a string')
    if (!isRev(subject.rev)) throw new TypeError('sign: rev must be a non-negative integer')
    const { issuer, audience, ttlSeconds } = this.#options
    const iat = Math.floor(nowMs / 1000)
    const exp = Math.min(iat + ttlSeconds, notAfter)
    if (!(exp > iat)) throw new TypeError('sign: the session ends before the JWT would start')
    // The same claims, in the same order, as jose's SignJWT produced before signing moved here.
    const claims = {
      client_id: subject.client_id,
      sid: subject.sid,
      email: subject.email,
      rev: subject.rev,
      iss: issuer,
      aud: audience,
      sub: subject.sub,
      iat,
      exp,
      jti: randomUUID(),
    }
    const jwt = signCompact(this.#signer, claims)
    return { jwt, expiresAt: exp }
  }

  /**
   * Expired → TokenExpired; every other failure → TokenInvalid. The jose error is deliberately
   * dropped: its message says which check failed, which a forger may not learn from the client.
   */
  async verify(jwt: string, nowMs: number): Promise<SessionClaims> {
    checkNow(nowMs)
    if (typeof jwt !== 'string' || jwt.length > MAX_JWT_LENGTH || !COMPACT_JWS.test(jwt)) {
      throw new TokenInvalid()
    }
    let payload: Record<string, unknown>
    try {
      // The header is unauthenticated here; it only picks one of the keys we already trust.
      const { kid } = decodeProtectedHeader(jwt)
      const key = typeof kid === 'string' ? this.#byKid.get(kid) : undefined
      if (key === undefined) throw new TokenInvalid()
      // The algorithm comes from our key, never from the token's header. Letting the header choose
      // is what enables `alg: none` and HS256-with-the-public-key-as-secret forgeries.
      const result = await jwtVerify(jwt, key.publicKey, {
        algorithms: [key.alg],
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        typ: TYP,
        currentDate: new Date(nowMs),
        requiredClaims: ['sub', 'client_id', 'sid', 'iat', 'exp', 'jti'],
      })
      payload = result.payload
    } catch (error) {
      // jose checks claims only after the signature, so "expired" is never said of a forgery.
      if (error instanceof errors.JWTExpired) throw new TokenExpired()
      throw new TokenInvalid()
    }
    const { sub, client_id, sid, email, rev, iat, exp, jti } = payload
    if (
      typeof sub !== 'string' ||
      sub === '' ||
      typeof client_id !== 'string' ||
      client_id === '' ||
      typeof sid !== 'string' ||
      sid === '' ||
      typeof email !== 'string' ||
      !isRev(rev) ||
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      typeof jti !== 'string' ||
      jti === ''
    ) {
      throw new TokenInvalid()
    }
    // We never sign a token that lives longer than SESSION_TTL or was issued in the future. One
    // that does was made with a key that leaked, or under a longer SESSION_TTL than this one: its
    // own exp is not to be trusted, so lowering SESSION_TTL shortens the tokens already out.
    if (exp - iat > this.#options.ttlSeconds || iat > nowMs / 1000 + IAT_LEEWAY_SECONDS) {
      throw new TokenInvalid()
    }
    return { sub, client_id, sid, email, rev, iat, exp, jti }
  }

  /** The public half of every key, for `/.well-known/jwks.json`. Frozen: shared by all callers. */
  jwks(): { keys: object[] } {
    return this.#jwks
  }
}

export type SessionAlgorithm = 'ES256' | 'EdDSA'

export interface NewSessionKeyOptions {
  /** The key id; its RFC 7638 thumbprint when absent. */
  kid?: string | undefined
  /**
   * ES256 (P-256) by default: every common JWT library verifies it, while Ed25519 is still
   * refused by some (jsonwebtoken with jwks-rsa, get-jwks).
   */
  alg?: SessionAlgorithm | undefined
}

/** A fresh private JWK for SESSION_KEYS. Treat it as a secret. */
export async function generateSessionKey(options: NewSessionKeyOptions = {}): Promise<object> {
  const { kid, alg = 'ES256' } = options
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) {
    throw new TypeError('generateSessionKey: kid must be a non-empty string')
  }
  if (alg !== 'ES256' && alg !== 'EdDSA') {
    throw new TypeError('generateSessionKey: alg must be ES256 or EdDSA')
  }
  const { privateKey } = await generateKeyPair(alg, { extractable: true })
  const exported = await exportJWK(privateKey)
  const jwk =
    alg === 'ES256'
      ? { kty: exported.kty, crv: exported.crv, x: exported.x, y: exported.y, d: exported.d }
      : { kty: exported.kty, crv: exported.crv, x: exported.x, d: exported.d }
  return { ...jwk, kid: kid ?? (await calculateJwkThumbprint(jwk)), alg, use: 'sig' }
}

async function importSessionKey(input: unknown, index: number): Promise<SessionKey> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(`SESSION_KEYS[${index}]: not a JWK object`)
  }
  const jwk = input as Record<string, unknown>
  const { kid } = jwk
  if (typeof kid !== 'string' || kid === '') {
    throw new TypeError(`SESSION_KEYS[${index}]: the key has no "kid"`)
  }
  const where = `SESSION_KEYS: key "${kid}"`
  // Only asymmetric keys: a symmetric (oct) key would let anyone holding it mint sessions, and a
  // ring that mixes HMAC and public keys is how algorithm-confusion forgeries begin.
  if (jwk.kty === 'oct') {
    throw new TypeError(`${where} is symmetric (kty "oct"); use an Ed25519 or P-256 private key`)
  }
  let alg: SessionAlgorithm
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') alg = 'EdDSA'
  else if (jwk.kty === 'EC' && jwk.crv === 'P-256') alg = 'ES256'
  else {
    const type = `kty ${JSON.stringify(jwk.kty)}, crv ${JSON.stringify(jwk.crv)}`
    throw new TypeError(`${where} has an unsupported type (${type}); use OKP Ed25519 or EC P-256`)
  }
  if (jwk.alg !== undefined && jwk.alg !== alg) {
    throw new TypeError(`${where}: "alg" ${JSON.stringify(jwk.alg)} does not fit the key (${alg})`)
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new TypeError(`${where}: "use" must be "sig"`)
  }
  if (typeof jwk.d !== 'string' || jwk.d === '') {
    throw new TypeError(`${where} has no private part "d"; SESSION_KEYS holds private keys`)
  }
  for (const name of alg === 'ES256' ? ['x', 'y'] : ['x']) {
    if (typeof jwk[name] !== 'string' || jwk[name] === '') {
      throw new TypeError(`${where} has no "${name}"`)
    }
  }
  // Rebuild the JWKs from the fields we checked, so stray members (key_ops, ext, x5c …) neither
  // change how the key imports nor leak into the published set.
  const publicJwk: JWK =
    alg === 'ES256'
      ? { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string }
      : { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string }
  const encodedHeader = encodeSegment({ alg, kid, typ: TYP })
  let key: SessionKey
  try {
    key = {
      kid,
      alg,
      privateKey: createPrivateKey({ key: { ...publicJwk, d: jwk.d as string }, format: 'jwk' }),
      encodedHeader,
      publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
      publicJwk: Object.freeze({ ...publicJwk, kid, alg, use: 'sig' }),
    }
    // Prove the pair matches once at start-up, through the very path that signs sessions and the
    // one that verifies them: a mismatched x/d would otherwise sign every session with a key
    // nobody, this service included, can verify.
    const probe = signCompact(key, {})
    await jwtVerify(probe, key.publicKey, { algorithms: [alg], typ: TYP })
  } catch (cause) {
    throw new TypeError(`${where} cannot be imported: the key material is invalid`, { cause })
  }
  return key
}

function encodeSegment(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/**
 * A compact JWS (RFC 7515) built by hand: node:crypto's synchronous `sign` costs a fraction of
 * jose's WebCrypto path on every verify and refresh. Only signing moved: verification stays with
 * jose, which pins alg, iss, aud and typ. ES256 needs the raw r||s signature (RFC 7518 §3.4),
 * not DER, hence ieee-p1363; Ed25519 takes no digest (null).
 */
function signCompact(key: SessionKey, claims: object): string {
  const input = `${key.encodedHeader}.${encodeSegment(claims)}`
  const signature =
    key.alg === 'EdDSA'
      ? signBytes(null, Buffer.from(input), key.privateKey)
      : signBytes('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

function checkOptions(options: SessionOptions): void {
  if (typeof options.issuer !== 'string' || options.issuer === '') {
    throw new TypeError('SessionKeys: issuer must be a non-empty string')
  }
  if (typeof options.audience !== 'string' || options.audience === '') {
    throw new TypeError('SessionKeys: audience must be a non-empty string')
  }
  if (!Number.isSafeInteger(options.ttlSeconds) || options.ttlSeconds <= 0) {
    throw new TypeError('SessionKeys: ttlSeconds must be a positive integer')
  }
}

// A broken clock (NaN, Infinity) is our bug, not the client's: fail loudly as a TypeError instead
// of quietly reporting every session as an invalid token.
function checkNow(nowMs: number): void {
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new TypeError('nowMs must be a finite time in ms')
}

function isRev(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
