import { deleteUser, findUsers, getUser, setUserStatus } from '../../auth/manage-users.js'
import { revokeUser } from '../../auth/revoke.js'
import { keyContext } from '../api-key-auth.js'
import { userRecord } from '../present.js'
import {
  problemResponses,
  RevokeResponseSchema,
  UserIdParamsSchema,
  UserSchema,
  UsersQuerySchema,
  UsersResponseSchema,
} from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

export function adminRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  const base = {
    onRequest: guards.admin,
  }
  const schema = (operationId: string, summary: string) => ({
    operationId,
    tags: ['admin'],
    summary,
    security: [{ apiKey: [] }],
  })
  const errors = problemResponses(400, 401, 403, 404, 429, 503)

  app.get(
    '/v1/admin/users',
    {
      ...base,
      schema: {
        ...schema('listUsers', 'Find users by email, or list the newest'),
        querystring: UsersQuerySchema,
        response: { 200: UsersResponseSchema, ...errors },
      },
    },
    async (request) => {
      const users = await findUsers(deps, {
        email: request.query.email,
        limit: request.query.limit ?? 50,
      })
      return { users: users.map(userRecord) }
    },
  )

  app.get(
    '/v1/admin/users/:id',
    {
      ...base,
      schema: {
        ...schema('getUser', 'Get a user'),
        params: UserIdParamsSchema,
        response: { 200: UserSchema, ...errors },
      },
    },
    async (request) => userRecord(await getUser(deps, request.params.id.toLowerCase())),
  )

  app.delete(
    '/v1/admin/users/:id',
    {
      ...base,
      schema: {
        ...schema('deleteUser', 'Delete a user; their tokens and sessions stop working'),
        params: UserIdParamsSchema,
        response: { 204: { type: 'null', description: 'Deleted' }, ...errors },
      },
    },
    async (request, reply) => {
      await deleteUser(deps, request.params.id.toLowerCase(), keyContext(request))
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/v1/admin/users/:id/revoke',
    {
      ...base,
      schema: {
        ...schema('revokeUser', 'Revoke every link, code, refresh token and session of the user'),
        params: UserIdParamsSchema,
        response: { 200: RevokeResponseSchema, ...errors },
      },
    },
    async (request) => {
      const { userId, rev } = await revokeUser(
        deps,
        request.params.id.toLowerCase(),
        keyContext(request),
      )
      return { user_id: userId, rev }
    },
  )

  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    app.post(
      `/v1/admin/users/:id/${action}`,
      {
        ...base,
        schema: {
          ...(action === 'disable'
            ? schema('disableUser', 'Disable a user')
            : schema('enableUser', 'Enable a user again')),
          params: UserIdParamsSchema,
          response: { 200: UserSchema, ...errors },
        },
      },
      async (request) =>
        userRecord(
          await setUserStatus(deps, request.params.id.toLowerCase(), status, keyContext(request)),
        ),
    )
  }
}
