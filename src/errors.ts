/**
 * Errors with a stable `code`. The domain throws these; the HTTP layer maps the code to a status
 * and an RFC 9457 problem document. A caller's programming mistake throws TypeError instead.
 * Messages are safe to show a client: they never carry a token, key or internal cause. The cause,
 * when there is one, goes to the log only.
 */
/** Why a token (a link, a refresh token, an exchange code) was refused: a person is told. */
export const TOKEN_ERROR_CODES = [
  'token_invalid',
  'token_expired',
  'token_used',
  'token_revoked',
  'user_disabled',
  'ip_mismatch',
] as const

export type TokenErrorCode = (typeof TOKEN_ERROR_CODES)[number]

/**
 * Every code a client can see, once. The problem table, the page reasons and the OpenAPI enum
 * derive from this list.
 */
export const ERROR_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'request_timeout',
  'payload_too_large',
  'unsupported_media_type',
  'headers_too_large',
  ...TOKEN_ERROR_CODES,
  'session_ended',
  'code_invalid',
  'rate_limited',
  'unavailable',
  'internal_error',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export abstract class LatchkeyError extends Error {
  abstract readonly code: ErrorCode | 'config_invalid'
  /**
   * Whether the error is ours rather than the client's (a 5xx, a configuration error): only those
   * capture a stack trace, which is what their log line needs. A client's error (a forged token,
   * a validation failure) is an expected answer, and capturing a stack for it is the largest cost
   * of rejecting it; nothing logs or shows the stack of one.
   */
  protected static readonly keepsStack: boolean = false

  constructor(message: string, options?: { cause?: unknown }) {
    if ((new.target as unknown as typeof LatchkeyError).keepsStack) {
      super(message, options)
    } else {
      const limit = Error.stackTraceLimit
      Error.stackTraceLimit = 0
      try {
        super(message, options)
      } finally {
        Error.stackTraceLimit = limit
      }
    }
    this.name = new.target.name
  }
}

export class InvalidRequest extends LatchkeyError {
  readonly code = 'invalid_request' satisfies ErrorCode
}

export class Unauthorized extends LatchkeyError {
  readonly code = 'unauthorized' satisfies ErrorCode
}

export class Forbidden extends LatchkeyError {
  readonly code = 'forbidden' satisfies ErrorCode
}

export class NotFound extends LatchkeyError {
  readonly code = 'not_found' satisfies ErrorCode
}

/**
 * The error of a token that failed a check, with the message a client sees unless the thrower
 * gives a more precise one.
 */
function tokenError<C extends TokenErrorCode>(code: C, message: string) {
  return class extends LatchkeyError {
    readonly code = code
    constructor(detail = message) {
      super(detail)
    }
  }
}

/** Malformed, forged, unknown kid, wrong purpose or wrong context (scope, redirect, IP). */
export class TokenInvalid extends tokenError('token_invalid', 'The token is not valid.') {}
export class TokenExpired extends tokenError('token_expired', 'The token has expired.') {
  /**
   * The id the token names (a user; a session for a refresh token), when its MAC passed: the
   * audit trail records whose link expired. Never the token itself.
   */
  subject?: string
  /** The token's expiry (seconds), when its MAC passed: with the subject it names the link. */
  expiresAt?: number
  /**
   * Whether the page of this link may offer a new one with one click: decided where the page
   * first opened the link (auth/resend-link.ts), shown by the page.
   */
  renewable = false
}
/** A one-time token whose user's login sequence has moved on: used, or voided by another link. */
export class TokenUsed extends tokenError('token_used', 'The token has already been used.') {
  /** As TokenExpired's. */
  renewable = false
}
/** The user's revocation counter has moved on since the token was made. */
export class TokenRevoked extends tokenError('token_revoked', 'The token has been revoked.') {}
export class UserDisabled extends tokenError('user_disabled', 'The user is disabled.') {}
export class IpMismatch extends tokenError(
  'ip_mismatch',
  'The token is bound to another client IP address.',
) {}

/** A session (or a refresh token of it) whose session was ended: logout, an admin, reuse. */
export class SessionEnded extends LatchkeyError {
  readonly code = 'session_ended' satisfies ErrorCode
  constructor(message = 'The session has ended.') {
    super(message)
  }
}

/**
 * A sign-in code that signs nobody in: wrong, for an address with no pending link, spent, expired
 * or revoked. One answer for all of them, so a guesser learns nothing about the address.
 */
export class CodeInvalid extends LatchkeyError {
  readonly code = 'code_invalid' satisfies ErrorCode
  constructor(message = 'The code is not valid.') {
    super(message)
  }
}

export class RateLimited extends LatchkeyError {
  readonly code = 'rate_limited' satisfies ErrorCode
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message)
  }
}

/** The store (database) cannot be reached; the request may be retried. */
export class Unavailable extends LatchkeyError {
  readonly code = 'unavailable' satisfies ErrorCode
  protected static override readonly keepsStack = true
}

/** Configuration that is missing or unsafe. Lists every problem at once. */
export class ConfigError extends LatchkeyError {
  readonly code = 'config_invalid'
  protected static override readonly keepsStack = true
  constructor(readonly problems: string[]) {
    super(`latchkey cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}
