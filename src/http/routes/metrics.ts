import { problemResponses } from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

/**
 * Prometheus's scrape target. Behind an API key of role `metrics` (or `admin`): the counters say
 * how many people sign in and how often links fail, which is nobody else's business. No label
 * names a user, an address or a token (see metrics/).
 */
export function metricsRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  app.get(
    '/metrics',
    {
      onRequest: guards.metrics,
      schema: {
        operationId: 'metrics',
        tags: ['ops'],
        summary: 'Prometheus metrics (text exposition format); role metrics or admin',
        security: [{ apiKey: [] }],
        response: {
          200: {
            description: 'The metrics, in the Prometheus text exposition format 0.0.4',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...problemResponses(401, 403, 429),
        },
      },
    },
    async (_request, reply) => {
      const text = await deps.metrics.scrape()
      // Each scrape is a fresh reading: no cache may answer for the next one.
      return reply.type(deps.metrics.contentType).header('cache-control', 'no-store').send(text)
    },
  )
}
