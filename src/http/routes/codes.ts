import { verifyCode } from '../../auth/verify-code.js'
import { apiKeyName } from '../api-key-auth.js'
import { verifiedRecord } from '../present.js'
import { CodeVerifyRequestSchema, problemResponses, VerifyResponseSchema } from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

/** Sign-in codes typed into a backend's own UI (a mobile app, an SPA behind its backend). */
export function codeRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  app.post(
    '/v1/codes/verify',
    {
      onRequest: guards.service,
      schema: {
        operationId: 'verifyCode',
        tags: ['codes'],
        summary: 'Sign in with the code of a sign-in email: opens a session, spends its link',
        security: [{ apiKey: [] }],
        body: CodeVerifyRequestSchema,
        response: { 200: VerifyResponseSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const body = request.body
      const result = await verifyCode(deps, {
        email: body.email,
        code: body.code,
        origin: { client: apiKeyName(request), ip: body.ip, userAgent: body.user_agent },
      })
      return verifiedRecord(result)
    },
  )
}
