import { liftSuppression, listSuppressions } from '../../auth/suppressions.js'
import { suppressionRecord } from '../present.js'
import {
  problemResponses,
  SuppressionParamsSchema,
  SuppressionsQuerySchema,
  SuppressionsResponseSchema,
} from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

/** The suppression list: the inboxes no email goes to now, and lifting an entry. */
export function adminSuppressionRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  const schema = (operationId: string, summary: string) => ({
    operationId,
    tags: ['admin'],
    summary,
    security: [{ apiKey: [] }],
  })

  app.get(
    '/v1/admin/suppressions',
    {
      onRequest: guards.admin,
      schema: {
        ...schema(
          'listSuppressions',
          'Inboxes no email goes to now (reported, bounced, complained)',
        ),
        querystring: SuppressionsQuerySchema,
        response: {
          200: SuppressionsResponseSchema,
          ...problemResponses(400, 401, 403, 429, 503),
        },
      },
    },
    async (request) => {
      const { after, limit } = request.query
      const page = await listSuppressions(deps, { after, limit: limit ?? 50 })
      return { ...page, suppressions: page.suppressions.map(suppressionRecord) }
    },
  )

  app.delete(
    '/v1/admin/suppressions/:email',
    {
      onRequest: guards.admin,
      schema: {
        ...schema('liftSuppression', 'Lift the suppression of an inbox: email flows to it again'),
        params: SuppressionParamsSchema,
        response: {
          204: { type: 'null', description: 'Lifted' },
          ...problemResponses(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      await liftSuppression(deps, request.params.email)
      return reply.code(204).send(null)
    },
  )
}
