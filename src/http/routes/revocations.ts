import { readRevocations } from '../../auth/revocations.js'
import { revocationRecord } from '../present.js'
import { problemResponses, RevocationsQuerySchema, RevocationsResponseSchema } from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

/** The revocation feed, for backends that verify session JWTs themselves. */
export function revocationRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  app.get(
    '/v1/revocations',
    {
      onRequest: guards.service,
      schema: {
        operationId: 'listRevocations',
        tags: ['sessions'],
        summary: 'Revoked users and ended sessions in commit order, after a cursor',
        security: [{ apiKey: [] }],
        querystring: RevocationsQuerySchema,
        response: { 200: RevocationsResponseSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const { after, limit } = request.query
      const page = await readRevocations(deps, { after, limit: limit ?? 100 })
      return { revocations: page.revocations.map(revocationRecord), cursor: page.cursor }
    },
  )
}
