import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/index.js'
import type { ErrorCode } from '../errors.js'
import { problem, problemOnSocket } from './problem.js'

/**
 * How long a client may hold a connection, for Fastify's options (DESIGN 21). Without them Node
 * waits forever for a body sent a byte at a time, and a few hundred such clients hold every
 * socket. Settings are in seconds (REQUEST_TIMEOUT, HEADERS_TIMEOUT, KEEP_ALIVE_TIMEOUT).
 */
export function connectionOptions(server: Config['server']) {
  const requestTimeout = server.requestTimeout * 1000
  return {
    // The whole request, headers and body, must arrive within this.
    requestTimeout,
    // A connection where nothing moves for as long (a client that stops reading our answer,
    // say) is closed too.
    connectionTimeout: requestTimeout,
    // An idle keep-alive connection is closed after this.
    keepAliveTimeout: server.keepAliveTimeout * 1000,
    http: {
      headersTimeout: server.headersTimeout * 1000,
      // Node checks it against requestTimeout when the server is created.
      requestTimeout,
      // Node looks for expired requests this often (every 30 s by default, which would let
      // a 1 s timeout last 31 s).
      connectionsCheckingInterval: Math.min(1000, (server.headersTimeout * 1000) / 2),
      // Node answers a request without Host with a bare 400 of its own. Nothing here reads Host
      // (links are built from PUBLIC_URL alone), so such a request is answered like any other.
      requireHostHeader: false,
    },
    clientErrorHandler,
  }
}

/** What Node reports about a connection before a request could be routed, as our codes. */
const CLIENT_ERRORS: Record<string, { code: ErrorCode; detail: string }> = {
  HPE_HEADER_OVERFLOW: { code: 'headers_too_large', detail: 'The request headers are too large.' },
  ERR_HTTP_REQUEST_TIMEOUT: {
    code: 'request_timeout',
    detail: 'The request did not arrive in time.',
  },
}

/**
 * Fastify's clientErrorHandler: a connection Node gives up on (headers too large, a request too
 * slow, bytes that are not HTTP) gets a problem+json answer like any other, then is closed.
 */
function clientErrorHandler(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const known = CLIENT_ERRORS[error.code ?? '']
  const body = problem(
    known?.code ?? 'invalid_request',
    known?.detail ?? 'The request is not valid HTTP.',
  )
  const requestId = randomUUID()
  this.log.info(
    { reqId: requestId, status: body.status, reason: error.code },
    'connection closed before routing',
  )
  // Once part of an answer is out, another one on the same connection would corrupt it.
  const answer = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (socket.writable && answer?.headersSent !== true) {
    socket.write(problemOnSocket(body, requestId, { head: askedHead(error) }))
  }
  socket.destroy()
}

/**
 * Whether the refused request was a HEAD, whose answer carries no content (RFC 9110 9.3.2): the
 * client reads none, and the problem document's bytes would be taken for the start of the next
 * answer. Node gives the packet it failed on; a request line that came in an earlier packet
 * (headers larger than one read) is not seen, and such an answer keeps its document.
 */
function askedHead(error: Error & { rawPacket?: unknown }): boolean {
  const packet = error.rawPacket
  return Buffer.isBuffer(packet) && packet.subarray(0, 5).toString('latin1') === 'HEAD '
}
