import type { components } from './api-types.js'

/** An RFC 9457 problem as latchkey sends it: the `code` is the member programs rely on. */
export type Problem = components['schemas']['Problem']

/** Every code latchkey answers with (the enum of openapi.yaml). */
export type ProblemCode = Problem['code']

/**
 * What a LatchkeyError can say: latchkey's own codes, or `unexpected_response` when whatever
 * answered was not latchkey speaking problem+json (a proxy's HTML 502, a network failure).
 */
export type LatchkeyErrorCode = ProblemCode | 'unexpected_response'

/**
 * The one error of this package, from an API call and from `verify` alike: switch on `code`.
 * `status` is the HTTP status to answer (or that latchkey answered); the problem, when there was
 * one, is kept whole. Messages never carry a token or a key.
 */
export class LatchkeyError extends Error {
  override readonly name = 'LatchkeyError'
  readonly code: LatchkeyErrorCode
  readonly status: number
  readonly problem: Problem | undefined
  /** Seconds, from a 429 or 503's Retry-After. */
  readonly retryAfter: number | undefined

  constructor(
    code: LatchkeyErrorCode,
    status: number,
    message: string,
    options: { problem?: Problem; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = status
    this.problem = options.problem
    this.retryAfter = options.retryAfter
  }
}
