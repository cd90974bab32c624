import { listAuditEvents } from '../../auth/audit-trail.js'
import { auditRecord } from '../present.js'
import { AuditQuerySchema, AuditResponseSchema, problemResponses } from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

/** The audit trail for operators: who changed what, newest first. */
export function adminAuditRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  app.get(
    '/v1/admin/audit',
    {
      onRequest: guards.admin,
      schema: {
        operationId: 'listAuditEvents',
        tags: ['admin'],
        summary: 'Audit events, newest first: by user, by type (or type.*), paged with before',
        security: [{ apiKey: [] }],
        querystring: AuditQuerySchema,
        response: { 200: AuditResponseSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const { user_id, type, before, limit } = request.query
      const page = await listAuditEvents(deps, {
        userId: user_id?.toLowerCase(),
        type,
        before: before?.toLowerCase(),
        limit: limit ?? 50,
      })
      return { ...page, events: page.events.map(auditRecord) }
    },
  )
}
