import { exchangeCode } from '../../auth/exchange.js'
import { introspect } from '../../auth/introspect.js'
import { refreshSession } from '../../auth/refresh.js'
import { apiKeyName } from '../api-key-auth.js'
import { sessionRecord } from '../present.js'
import {
  ExchangeRequestSchema,
  IntrospectRequestSchema,
  IntrospectResponseSchema,
  JwksSchema,
  problemResponses,
  RefreshRequestSchema,
  SessionSchema,
} from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

export function sessionRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  const onRequest = guards.service

  app.post(
    '/v1/sessions/refresh',
    {
      onRequest,
      schema: {
        operationId: 'refreshSession',
        tags: ['sessions'],
        summary: 'Trade a refresh token for a new session JWT and refresh token',
        security: [{ apiKey: [] }],
        body: RefreshRequestSchema,
        response: { 200: SessionSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) =>
      sessionRecord(await refreshSession(deps, request.body.refresh_token, apiKeyName(request))),
  )

  app.post(
    '/v1/sessions/exchange',
    {
      onRequest,
      schema: {
        operationId: 'exchangeCode',
        tags: ['sessions'],
        summary: "Trade the hosted flow's one-time code (60 s) for a session",
        security: [{ apiKey: [] }],
        body: ExchangeRequestSchema,
        response: { 200: SessionSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) =>
      sessionRecord(await exchangeCode(deps, request.body.code, apiKeyName(request))),
  )

  app.post(
    '/v1/sessions/introspect',
    {
      onRequest,
      schema: {
        operationId: 'introspectSession',
        tags: ['sessions'],
        summary: 'Is this session JWT still active (signature, expiry, revocation, status)?',
        security: [{ apiKey: [] }],
        body: IntrospectRequestSchema,
        response: { 200: IntrospectResponseSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => introspect(deps, request.body.jwt),
  )

  app.get(
    '/.well-known/jwks.json',
    {
      onRequest: guards.public,
      schema: {
        operationId: 'getJwks',
        tags: ['sessions'],
        summary: 'Public keys that verify session JWTs',
        security: [],
        response: { 200: JwksSchema, ...problemResponses(429) },
      },
    },
    async (_request, reply) => {
      // Keys change only with a restart; a short cache keeps rotation visible within minutes.
      reply.header('cache-control', 'public, max-age=300')
      return deps.sessions.jwks()
    },
  )
}
