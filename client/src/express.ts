import type { IncomingMessage, ServerResponse } from 'node:http'
import { bearerOf, rejection } from './bearer.js'
import { LatchkeyError } from './errors.js'
import type { SessionClaims, Verifier } from './verifier.js'

/** A request once the middleware let it through. */
export type LatchkeyRequest<R extends IncomingMessage = IncomingMessage> = R & {
  latchkey: SessionClaims
}

/**
 * Express-style middleware (Express, Connect, router, plain node:http): a valid session JWT in
 * `Authorization: Bearer` sets `req.latchkey` to its claims and calls next(); anything else is
 * answered 401 (503 when the JWKS or the feed cannot be reached) as problem+json, with the code.
 * An unexpected error goes to next(error).
 */
export function latchkeyMiddleware(verifier: Verifier) {
  return (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    const verified = (async () => verifier.verify(bearerOf(req.headers.authorization)))()
    verified.then(
      (claims) => {
        ;(req as LatchkeyRequest).latchkey = claims
        next()
      },
      (error: unknown) => {
        if (!(error instanceof LatchkeyError)) return next(error)
        const { status, headers, body } = rejection(error)
        res.writeHead(status, headers).end(body)
      },
    )
  }
}
