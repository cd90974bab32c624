import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const REQUEST_ID_HEADER = 'x-request-id'

/**
 * What a caller's X-Request-Id may be for us to keep it: short, and only characters that cannot
 * break a header, a log line or a terminal. Covers UUIDs, ULIDs and the ids proxies add.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:=+/-]{1,128}$/

/**
 * The request's id (Fastify's genReqId): the caller's X-Request-Id when it is safe, so one id
 * follows a request through a proxy and its backend; otherwise a new UUID. Anything else a
 * caller sends (line breaks, a thousand characters, non-ASCII) is ignored, never cleaned up.
 */
export function requestId(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER]
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID()
}
