import formbody from '@fastify/formbody'
import { endSession } from '../../auth/end-session.js'
import { exchangeCode } from '../../auth/exchange.js'
import { introspect } from '../../auth/introspect.js'
import { refreshSession } from '../../auth/refresh.js'
import { apiKeyName } from '../api-key-auth.js'
import { grantRecord } from '../present.js'
import {
  EndSessionRequestSchema,
  ExchangeRequestSchema,
  IntrospectRequestSchema,
  IntrospectResponseSchema,
  JwksSchema,
  oneOfMessages,
  problemResponses,
  RefreshRequestSchema,
  SessionSchema,
} from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

export function sessionRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  const onRequest = guards.service
  const schema = (operationId: string, summary: string) => ({
    operationId,
    tags: ['sessions'],
    summary,
    security: [{ apiKey: [] }],
  })

  app.post(
    '/v1/sessions/refresh',
    {
      onRequest,
      schema: {
        ...schema('refreshSession', 'Trade the current refresh token for a JWT and the next one'),
        body: RefreshRequestSchema,
        response: { 200: SessionSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) =>
      grantRecord(await refreshSession(deps, request.body.refresh_token, apiKeyName(request))),
  )

  app.post(
    '/v1/sessions/end',
    {
      onRequest,
      schemaErrorFormatter: oneOfMessages('exactly one of refresh_token and session_id'),
      schema: {
        ...schema('endSession', "End one session (a backend's logout); idempotent"),
        body: EndSessionRequestSchema,
        response: {
          204: { type: 'null', description: 'The session has ended' },
          ...problemResponses(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { refresh_token, session_id } = request.body
      const which = refresh_token
        ? { refreshToken: refresh_token }
        : { sessionId: `${session_id}`.toLowerCase() }
      await endSession(deps, which, apiKeyName(request))
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/v1/sessions/exchange',
    {
      onRequest,
      schema: {
        ...schema('exchangeCode', "Trade the hosted flow's one-time code (60 s) for a session"),
        body: ExchangeRequestSchema,
        response: { 200: SessionSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const { code, ip, user_agent } = request.body
      const origin = { client: apiKeyName(request), ip, userAgent: user_agent }
      return grantRecord(await exchangeCode(deps, code, origin))
    },
  )

  // The one API route that also takes a form body: RFC 7662 clients send introspection that way.
  app.register(async (rfc7662: App) => {
    await rfc7662.register(formbody, { bodyLimit: 16 * 1024 })
    rfc7662.post(
      '/v1/sessions/introspect',
      {
        onRequest,
        schemaErrorFormatter: oneOfMessages('exactly one of jwt and token'),
        schema: {
          ...schema(
            'introspectSession',
            'Is this session JWT still active (its session, its user)?',
          ),
          body: IntrospectRequestSchema,
          response: { 200: IntrospectResponseSchema, ...problemResponses(400, 401, 403, 429, 503) },
        },
      },
      async (request) => introspect(deps, request.body.jwt ?? request.body.token ?? ''),
    )
  })

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
