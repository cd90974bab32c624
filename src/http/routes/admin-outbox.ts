import { viewOutbox } from '../../auth/outbox-view.js'
import { outboxRecord } from '../present.js'
import { OutboxQuerySchema, OutboxResponseSchema, problemResponses } from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

export function adminOutboxRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  app.get(
    '/v1/admin/outbox',
    {
      onRequest: guards.admin,
      schema: {
        operationId: 'listOutbox',
        tags: ['admin'],
        summary:
          'Email and webhook delivery: state, attempts and last error of each message, newest first',
        security: [{ apiKey: [] }],
        querystring: OutboxQuerySchema,
        response: { 200: OutboxResponseSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const { status, kind, user_id, before, limit } = request.query
      const page = await viewOutbox(deps, {
        status,
        kind,
        userId: user_id?.toLowerCase(),
        before: before?.toLowerCase(),
        limit: limit ?? 50,
      })
      return { ...page, messages: page.messages.map(outboxRecord) }
    },
  )
}
