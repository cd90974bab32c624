import { issueLink } from '../../auth/issue-link.js'
import { verifyLink } from '../../auth/verify-link.js'
import { apiKeyName, keyContext } from '../api-key-auth.js'
import { issuedRecord, verifiedRecord } from '../present.js'
import {
  LinkRequestSchema,
  LinkResponseSchema,
  oneOfMessages,
  problemResponses,
  VerifyRequestSchema,
  VerifyResponseSchema,
} from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

export function linkRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  const onRequest = guards.service

  app.post(
    '/v1/links',
    {
      onRequest,
      schemaErrorFormatter: oneOfMessages('exactly one of email and user_id'),
      schema: {
        operationId: 'issueLink',
        tags: ['links'],
        summary: 'Issue a sign-in or access link, and email it or return it',
        security: [{ apiKey: [] }],
        body: LinkRequestSchema,
        response: { 202: LinkResponseSchema, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const body = request.body
      const issued = await issueLink(deps, {
        email: body.email,
        userId: body.user_id?.toLowerCase(),
        redirectTo: body.redirect_to,
        ttlSeconds: body.ttl_seconds,
        scope: body.scope,
        oneTime: body.one_time,
        deliver: body.deliver ?? 'email',
        createUser: body.create_user ?? true,
        bindIp: body.bind_ip,
        locale: body.locale,
        by: keyContext(request),
      })
      return reply.code(202).send(issuedRecord(issued))
    },
  )

  app.post(
    '/v1/links/verify',
    {
      onRequest,
      schema: {
        operationId: 'verifyLink',
        tags: ['links'],
        summary: 'Verify a link token; for a login link, consume it and open a session',
        security: [{ apiKey: [] }],
        body: VerifyRequestSchema,
        response: { 200: VerifyResponseSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const body = request.body
      const result = await verifyLink(deps, {
        token: body.token,
        scope: body.scope,
        redirectTo: body.redirect_to,
        ip: body.ip,
        ...(body.consume === false
          ? { consume: false }
          : { consume: true, client: apiKeyName(request), userAgent: body.user_agent }),
      })
      return verifiedRecord(result)
    },
  )
}
