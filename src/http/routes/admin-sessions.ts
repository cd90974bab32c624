import { endSessionAsAdmin, listUserSessions } from '../../auth/manage-sessions.js'
import { keyContext } from '../api-key-auth.js'
import { sessionRecord } from '../present.js'
import {
  problemResponses,
  SessionIdParamsSchema,
  SessionsQuerySchema,
  SessionsResponseSchema,
  UserIdParamsSchema,
} from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

/** An operator sees a user's devices and signs one out, leaving the others signed in. */
export function adminSessionRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  const errors = problemResponses(400, 401, 403, 404, 429, 503)
  const schema = (operationId: string, summary: string) => ({
    operationId,
    tags: ['admin'],
    summary,
    security: [{ apiKey: [] }],
  })

  app.get(
    '/v1/admin/users/:id/sessions',
    {
      onRequest: guards.admin,
      schema: {
        ...schema('listUserSessions', "A user's sessions: open ones and those recently ended"),
        params: UserIdParamsSchema,
        querystring: SessionsQuerySchema,
        response: { 200: SessionsResponseSchema, ...errors },
      },
    },
    async (request) => {
      const userId = request.params.id.toLowerCase()
      const sessions = await listUserSessions(deps, userId, request.query.limit ?? 50)
      return { sessions: sessions.map(sessionRecord) }
    },
  )

  app.delete(
    '/v1/admin/sessions/:id',
    {
      onRequest: guards.admin,
      schema: {
        ...schema('endSessionAsAdmin', 'End one session; the user stays signed in elsewhere'),
        params: SessionIdParamsSchema,
        response: { 204: { type: 'null', description: 'The session has ended' }, ...errors },
      },
    },
    async (request, reply) => {
      await endSessionAsAdmin(deps, request.params.id.toLowerCase(), keyContext(request))
      return reply.code(204).send(null)
    },
  )
}
