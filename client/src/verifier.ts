import { createRemoteJWKSet, customFetch, errors, jwtVerify } from 'jose'
import { LatchkeyError } from './errors.js'
import { RevocationFollower, type SetTimer } from './revocations.js'

/** The claims of a latchkey session JWT (README, "Verifying sessions in your backend"). */
export interface SessionClaims {
  iss: string
  aud: string | string[]
  /** The user id. */
  sub: string
  /** The API key that opened the session, or `hosted`. */
  client_id: string
  /** The session id. */
  sid: string
  email: string
  /** The user's revocation counter when the JWT was signed. */
  rev: number
  iat: number
  exp: number
  jti: string
}

export interface VerifierOptions {
  /** latchkey's PUBLIC_URL: the issuer every JWT must name, and where its JWKS is. */
  url: string | URL
  /** latchkey's SESSION_AUDIENCE (PUBLIC_URL unless set). */
  audience: string | string[]
  /** An API key with role `service`; needed to follow revocations. */
  apiKey?: string
  /**
   * Follow `GET /v1/revocations` and reject JWTs whose user was revoked or whose session ended,
   * within `interval`, with no request to latchkey per JWT.
   */
  followRevocations?: boolean
  /** Milliseconds between polls of the feed; 5000 unless given. */
  interval?: number
  /**
   * Milliseconds a feed entry is remembered; one hour unless given. Must be at least latchkey's
   * SESSION_TTL: when following revocations, a JWT issued longer ago than this is refused.
   */
  retention?: number
  /**
   * Milliseconds without a successful poll after which verify answers `unavailable` (503) rather
   * than trust JWTs it can no longer check. Unset: keep verifying signatures while the feed is
   * down (onError hears of every failed poll).
   */
  maxStaleness?: number
  /** Entries per request of the feed; 500 unless given. */
  feedLimit?: number
  /** Every failed poll of the feed. */
  onError?: (error: unknown) => void
  /** Where the JWKS is; `url` + `/.well-known/jwks.json` unless given. */
  jwksUrl?: string | URL
  /**
   * Milliseconds before an unknown `kid` may fetch the JWKS again (jose's cooldown; 30 s unless
   * given): a flood of JWTs with made-up kids costs latchkey one request per cooldown.
   */
  jwksCooldown?: number
  /** For tests: the clock (ms), fetch and the poll timer. */
  now?: () => number
  fetch?: typeof fetch
  setTimer?: SetTimer
}

export interface Verifier {
  /** The claims of a valid, live session JWT; a LatchkeyError (401, or 503) otherwise. */
  verify(jwt: string): Promise<SessionClaims>
  /** Polls the feed now (tests; a backend after it hears of a revoke some other way). */
  sync(): Promise<void>
  /**
   * What the follower holds (for a health check): when the last poll succeeded, and how many
   * users and ended sessions it remembers. Undefined without followRevocations.
   */
  feedStatus(): { lastSyncAt: number | undefined; users: number; sessions: number } | undefined
  /** Stops polling. */
  close(): void
}

// The algorithms latchkey signs with. Listing them refuses `none` and HS256 (the public key used
// as an HMAC secret); jose then also requires the JWKS key picked by `kid` to be of that type
// (P-256 for ES256, Ed25519 for EdDSA) and, as latchkey publishes `alg` with each key, of that alg.
const ALGORITHMS = ['ES256', 'EdDSA']
const TYP = 'at+jwt'
// latchkey never signs a longer one; a bigger string is refused before any parsing.
const MAX_JWT_LENGTH = 8192
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/

const invalid = () => new LatchkeyError('token_invalid', 401, 'not a valid session JWT')

export function createVerifier(options: VerifierOptions): Verifier {
  // iss is exactly PUBLIC_URL, which has no trailing slash; accept the option with one (a URL
  // object of an origin always has one).
  const url = String(options.url).replace(/\/$/, '')
  const now = options.now ?? Date.now
  const keys = createRemoteJWKSet(new URL(options.jwksUrl ?? `${url}/.well-known/jwks.json`), {
    ...(options.jwksCooldown === undefined ? {} : { cooldownDuration: options.jwksCooldown }),
    ...(options.fetch === undefined ? {} : { [customFetch]: options.fetch }),
  })
  const retention = options.retention ?? 3_600_000

  let follower: RevocationFollower | undefined
  let ready: Promise<void> = Promise.resolve()
  if (options.followRevocations) {
    if (!options.apiKey) throw new TypeError('followRevocations needs an apiKey (role service)')
    follower = new RevocationFollower({
      url,
      apiKey: options.apiKey,
      interval: options.interval ?? 5000,
      retention,
      now,
      ...(options.feedLimit === undefined ? {} : { limit: options.feedLimit }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.setTimer === undefined ? {} : { setTimer: options.setTimer }),
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    })
    // The first verify waits for the first sync, so a JWT revoked before this process started
    // is not let through in its first seconds. A failed first sync went to onError.
    ready = follower.start().catch(() => {})
  }

  async function verify(jwt: string): Promise<SessionClaims> {
    if (typeof jwt !== 'string' || jwt.length > MAX_JWT_LENGTH || !COMPACT_JWS.test(jwt)) {
      throw invalid()
    }
    let payload: Record<string, unknown>
    try {
      const result = await jwtVerify(jwt, keys, {
        algorithms: ALGORITHMS,
        issuer: url,
        audience: options.audience,
        typ: TYP,
        currentDate: new Date(now()),
        requiredClaims: ['sub', 'client_id', 'sid', 'rev', 'iat', 'exp', 'jti'],
      })
      payload = result.payload
    } catch (error) {
      throw fromJose(error)
    }
    const claims = claimsOf(payload)
    if (follower !== undefined) {
      await ready
      const stale = options.maxStaleness
      if (stale !== undefined && now() - (follower.lastSyncAt ?? 0) > stale) {
        throw new LatchkeyError('unavailable', 503, 'the revocation feed is out of date')
      }
      // What the follower forgets after `retention` must be dead anyway: a JWT signed before the
      // oldest change still remembered is refused here, by its age alone.
      if (now() - claims.iat * 1000 > retention) {
        throw new LatchkeyError('token_expired', 401, 'the session JWT is older than retention')
      }
      const dead = follower.check(claims)
      if (dead !== undefined) throw new LatchkeyError(dead, 401, `the session JWT is ${dead}`)
    }
    return claims
  }

  return {
    verify,
    sync: () => follower?.sync() ?? Promise.resolve(),
    feedStatus: () => follower && { lastSyncAt: follower.lastSyncAt, ...follower.size },
    close: () => follower?.close(),
  }
}

/**
 * jose's failure as ours. Its message is dropped (it says which check failed: nothing a client
 * sending a forgery should learn); an unreachable JWKS is latchkey's trouble, not the token's.
 */
function fromJose(error: unknown): LatchkeyError {
  if (error instanceof errors.JWTExpired) {
    return new LatchkeyError('token_expired', 401, 'the session JWT has expired')
  }
  // jose says a JWKS fetch failed with its base class (a non-200 answer, not JSON), a timeout or
  // JWKSInvalid; only the JWKS fetch throws these. Everything else of jose's is about the token.
  const fetchFailed =
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    (error instanceof errors.JOSEError && error.constructor === errors.JOSEError)
  if (!fetchFailed && error instanceof errors.JOSEError) return invalid()
  // And fetch's own failure (connection refused, DNS) when fetching the JWKS.
  return new LatchkeyError('unavailable', 503, 'the JWKS could not be fetched', { cause: error })
}

function claimsOf(payload: Record<string, unknown>): SessionClaims {
  const { iss, aud, sub, client_id, sid, email, rev, iat, exp, jti } = payload
  if (
    typeof iss !== 'string' ||
    !(typeof aud === 'string' || Array.isArray(aud)) ||
    typeof sub !== 'string' ||
    sub === '' ||
    typeof client_id !== 'string' ||
    typeof sid !== 'string' ||
    sid === '' ||
    typeof email !== 'string' ||
    typeof rev !== 'number' ||
    !Number.isSafeInteger(rev) ||
    rev < 0 ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    typeof jti !== 'string'
  ) {
    throw invalid()
  }
  return { iss, aud: aud as string | string[], sub, client_id, sid, email, rev, iat, exp, jti }
}
