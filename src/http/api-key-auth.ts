import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { type ApiKeys, allows, type Principal, type Role } from '../auth/api-keys.js'
import { Forbidden, Unauthorized } from '../errors.js'
import type { AuditContext } from '../store/audit.js'

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal
  }
}

// The scheme is case-insensitive and may be followed by more than one space (RFC 9110, 11.1);
// the key itself is compared exactly.
const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i

/** An onRequest hook: a valid API key of the role (admin keys may do anything), or 401 / 403. */
export function requireRole(apiKeys: ApiKeys, role: Role): onRequestAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const match = BEARER.exec(request.headers.authorization ?? '')
    const principal = match ? apiKeys.authenticate(match[1] as string) : undefined
    if (!principal) throw new Unauthorized('A valid API key is required (Authorization: Bearer …).')
    if (!allows(principal, role)) throw new Forbidden(`This API key lacks the ${role} role.`)
    request.principal = principal
  }
}

/**
 * Who makes this request, for the audit trail: its API key, from the address and user agent it
 * came from. Never the key itself.
 */
export function keyContext(request: FastifyRequest): AuditContext {
  return {
    actor: `key:${apiKeyName(request)}`,
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
  }
}

/**
 * The name of the API key that authenticated this request, for the sessions it opens. Only a
 * route behind requireRole has one; elsewhere this is a wiring mistake, not a client's.
 */
export function apiKeyName(request: FastifyRequest): string {
  if (request.principal === undefined) throw new TypeError('this route has no API key guard')
  return request.principal.name
}
