import { Unavailable } from '../../errors.js'
import { HealthSchema, problemResponses } from '../schemas.js'
import type { App, RouteDeps } from '../types.js'

export function healthRoutes(app: App, deps: RouteDeps): void {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'health',
        tags: ['ops'],
        summary: 'The process is up',
        security: [],
        response: { 200: HealthSchema, ...problemResponses() },
      },
    },
    async () => ({ status: 'ok' }),
  )
  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'ready',
        tags: ['ops'],
        summary: 'The database answers',
        security: [],
        response: { 200: HealthSchema, ...problemResponses(503) },
      },
    },
    async () => {
      try {
        await deps.store.ping()
      } catch (error) {
        throw new Unavailable('The database does not answer.', { cause: error })
      }
      return { status: 'ready' }
    },
  )
}
