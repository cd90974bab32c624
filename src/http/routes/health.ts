import { Unavailable } from '../../errors.js'
import { HealthSchema, problemResponses } from '../schemas.js'
import type { App, RouteDeps } from '../types.js'

export function healthRoutes(app: App, deps: RouteDeps): void {
  app.get(
    '/healthz',
    { schema: { tags: ['ops'], summary: 'The process is up', response: { 200: HealthSchema } } },
    async () => ({ status: 'ok' }),
  )
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'The database answers',
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
