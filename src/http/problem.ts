import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { type ErrorCode, LatchkeyError, RateLimited, Unavailable } from '../errors.js'
import { REQUEST_ID_HEADER } from './request-id.js'

export const PROBLEM_TYPE = 'application/problem+json'

/** What a 503 suggests as a wait (Retry-After): the database is retried on every request. */
export const UNAVAILABLE_RETRY_SECONDS = 5

/** Status and title for every code a client can see. Unknown codes never reach a client. */
export const PROBLEMS: Record<ErrorCode, { status: number; title: string }> = {
  invalid_request: { status: 400, title: 'Invalid request' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'Request timeout' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  headers_too_large: { status: 431, title: 'Request headers too large' },
  token_invalid: { status: 401, title: 'Invalid token' },
  token_expired: { status: 401, title: 'Token expired' },
  token_used: { status: 401, title: 'Token already used' },
  token_revoked: { status: 401, title: 'Token revoked' },
  ip_mismatch: { status: 401, title: 'Token bound to another IP address' },
  session_ended: { status: 401, title: 'Session ended' },
  code_invalid: { status: 401, title: 'Invalid code' },
  user_disabled: { status: 403, title: 'User disabled' },
  rate_limited: { status: 429, title: 'Too many requests' },
  unavailable: { status: 503, title: 'Service unavailable' },
  internal_error: { status: 500, title: 'Internal error' },
}

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: ErrorCode
}

export function problem(code: ErrorCode, detail: string): Problem {
  const known = PROBLEMS[code]
  return {
    type: `urn:latchkey:problem:${code}`,
    title: known.title,
    status: known.status,
    detail,
    code,
  }
}

/** Errors are never cached; this also covers answers Fastify gives before any hook runs. */
export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  reply.header('cache-control', 'no-store')
  reply.header('x-content-type-options', 'nosniff')
  reply.header(REQUEST_ID_HEADER, reply.request.id)
  if (body.status === 401) reply.header('www-authenticate', 'Bearer')
  return reply.code(body.status).type(PROBLEM_TYPE).send(body)
}

/** The headers of a problem written without Fastify (a raw response or socket). */
function rawHeaders(body: string, requestId: string): Record<string, string> {
  return {
    'content-type': `${PROBLEM_TYPE}; charset=utf-8`,
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    [REQUEST_ID_HEADER]: requestId,
  }
}

/**
 * A whole HTTP/1.1 answer for a connection Node refuses before there is a request to route
 * (headers too large, too slow, not HTTP); the connection closes after it. The answer to a HEAD
 * has the same head and no content.
 */
export function problemOnSocket(
  body: Problem,
  requestId: string,
  { head = false }: { head?: boolean } = {},
): string {
  const json = JSON.stringify(body)
  const headers = { ...rawHeaders(json, requestId), connection: 'close' }
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`)
  return `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status]}\r\n${lines.join('')}\r\n${head ? '' : json}`
}

/**
 * The answer to a bug, written straight to the response. Going through reply.send again could
 * fail the way the first answer did (a header with a forbidden character, an onSend hook or a
 * serializer that throws) and end in Fastify's own JSON; this path has nothing left to fail.
 */
function sendInternalError(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const res = reply.raw
  if (res.headersSent || res.destroyed) {
    // Part of another answer is out: cutting the connection is the only honest signal left.
    res.destroy()
    return reply
  }
  reply.hijack()
  const body = JSON.stringify(problem('internal_error', 'Something went wrong on our side.'))
  // Whatever the handler set is dropped: one of its headers may be what failed.
  for (const name of res.getHeaderNames()) res.removeHeader(name)
  res.writeHead(500, rawHeaders(body, request.id))
  res.end(body)
  return reply
}

/** Codes for the errors Fastify itself raises before a handler runs. */
function codeForStatus(status: number): ErrorCode {
  if (status === 404) return 'not_found'
  if (status === 405) return 'method_not_allowed'
  if (status === 408) return 'request_timeout'
  if (status === 413) return 'payload_too_large'
  if (status === 415) return 'unsupported_media_type'
  if (status === 431) return 'headers_too_large'
  if (status === 429) return 'rate_limited'
  if (status === 503) return 'unavailable'
  return 'invalid_request'
}

/**
 * The one place errors become responses. Domain errors carry their code; Fastify's own 4xx errors
 * (validation, bad JSON, body too large) become invalid_request and friends; anything else is a
 * bug and is logged with its cause, while the client learns nothing about it.
 */
export function errorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  // A configuration error is ours, never the client's: it answers like any other bug.
  if (error instanceof LatchkeyError && error.code !== 'config_invalid') {
    if (error instanceof RateLimited) reply.header('retry-after', String(error.retryAfterSeconds))
    if (error instanceof Unavailable) reply.header('retry-after', String(UNAVAILABLE_RETRY_SECONDS))
    const body = problem(error.code, error.message)
    if (body.status >= 500) request.log.error({ err: error.cause ?? error }, 'request failed')
    return sendProblem(reply, body)
  }
  // Anything may be thrown, null and strings included.
  const status = (error as Partial<FastifyError> | null)?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Validation and parser messages name the field and the rule, never the value sent.
    return sendProblem(reply, problem(codeForStatus(status), (error as FastifyError).message))
  }
  request.log.error({ err: error }, 'request failed')
  return sendInternalError(request, reply)
}

/**
 * Answers a request no route took: 405 with Allow when the path exists for other methods, 404
 * otherwise. `methodsOf` gives the methods the routes answer on a path.
 */
export function notFoundHandler(methodsOf: (path: string) => string[]) {
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = pathOf(request.url)
    const allowed = methodsOf(path)
    // A route that takes this method may still find nothing (a file under /docs/static).
    if (allowed.length === 0 || allowed.includes(request.method)) {
      return sendProblem(reply, problem('not_found', `No route ${request.method} ${path}.`))
    }
    reply.header('allow', allowed.join(', '))
    return sendProblem(
      reply,
      problem(
        'method_not_allowed',
        `${path} does not answer ${request.method}; it answers ${allowed.join(', ')}.`,
      ),
    )
  }
}

export function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}
