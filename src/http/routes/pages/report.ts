import { checkReport, reportUnwanted } from '../../../auth/report.js'
import { mask } from '../../pages/answers.js'
import type { ErrorHandler } from '../../pages/errors.js'
import { ReportFormSchema, ReportQuerySchema, single } from '../../pages/forms.js'
import type { PageReplies } from '../../pages/reply.js'
import type { App, RouteDeps } from '../../types.js'

/**
 * "This wasn't me": the small link in every sign-in email, and the buttons of the page it opens.
 * The GET changes nothing (scanners open every link in an email); a report link that cannot be
 * used answers with the link-error page, never with a button to renew it.
 */
export function reportRoutes(
  app: App,
  deps: RouteDeps,
  { pages, errorHandler }: { pages: PageReplies; errorHandler: ErrorHandler },
): void {
  const query = { hide: true, querystring: ReportQuerySchema }
  app.get('/login/report', { schema: query, errorHandler }, async (request, reply) => {
    const token = single(request.query.token) ?? ''
    const user = await checkReport(deps, token)
    return pages.send(request, reply, { name: 'report', maskedEmail: mask(user.email), token })
  })

  const form = { hide: true, body: ReportFormSchema }
  app.post('/login/report', { schema: form, errorHandler }, async (request, reply) => {
    const reported = await reportUnwanted(deps, {
      token: single(request.body.token) ?? '',
      // Only the second, explicit button sends it; any value it carries means yes.
      endSessions: single(request.body.end_sessions) !== undefined,
      ip: request.ip,
      userAgent: request.headers['user-agent'],
    })
    const maskedEmail = mask(reported.user.email)
    const endedSessions = single(request.body.end_sessions) !== undefined
    return pages.send(request, reply, { name: 'reported', maskedEmail, endedSessions })
  })
}
