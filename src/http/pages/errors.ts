import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { LatchkeyError, TokenExpired, TokenUsed, Unavailable } from '../../errors.js'
import { errorHandler, UNAVAILABLE_RETRY_SECONDS } from '../problem.js'
import { memberOf, nextOf, single } from './forms.js'
import { LINK_ERROR_REASONS, type LinkErrorReason, type Page, type Resend } from './render.js'
import type { PageReplies } from './reply.js'

export type ErrorHandler = (
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) => unknown

const REASONS = new Set<string>(LINK_ERROR_REASONS)
const isLinkReason = (code: string): code is LinkErrorReason => REASONS.has(code)

/**
 * People get pages, not problem documents: when the database does not answer, and when a
 * request is refused before a handler runs (a body too large, of another type, malformed:
 * nothing our own forms send). Anything else, a bug, goes to the one handler, as for the API.
 */
export function pageErrorHandler(pages: PageReplies): ErrorHandler {
  return (error, request, reply) => {
    const status = (error as { statusCode?: unknown }).statusCode
    if (
      !(error instanceof LatchkeyError) &&
      typeof status === 'number' &&
      status >= 400 &&
      status < 500
    ) {
      return pages.send(
        request,
        reply,
        { name: 'forbidden', message: 'forbidden.unreadable' },
        status,
      )
    }
    if (!(error instanceof Unavailable)) return errorHandler(error, request, reply)
    request.log.error({ err: error.cause ?? error }, 'request failed')
    reply.header('retry-after', String(UNAVAILABLE_RETRY_SECONDS))
    const next = nextOf(memberOf(request.body ?? request.query, 'next'), pages.targets)
    return pages.send(request, reply, { name: 'unavailable', next }, 503)
  }
}

/**
 * The pages a link opens: a link that cannot be used (used, expired, revoked …) is one friendly
 * page, never its code; every other error is not the link's and answers as on any page. Where
 * auth/ found the link renewable (auth/resend-link.ts), the page offers "Email me a new link":
 * a form that posts the link's own token and target back.
 */
export function linkErrorHandler(pages: PageReplies, otherwise: ErrorHandler): ErrorHandler {
  return (error, request, reply) => {
    if (error instanceof LatchkeyError && isLinkReason(error.code)) {
      const resend = renewable(error) ? offerOf(request) : undefined
      const page: Page = { name: 'link-error', reason: error.code, ...(resend && { resend }) }
      return pages.send(request, reply, page, 400)
    }
    return otherwise(error, request, reply)
  }
}

const renewable = (error: LatchkeyError) =>
  (error instanceof TokenExpired || error instanceof TokenUsed) && error.renewable

/** The failed link's token and target, from the query of a GET or the body of a POST. */
function offerOf(request: FastifyRequest): Resend | undefined {
  const source = request.method === 'POST' ? request.body : request.query
  const token = single(memberOf(source, 'token'))
  const next = single(memberOf(source, 'next')) || undefined
  if (!token) return undefined
  return next === undefined ? { token } : { token, next }
}
