import { confirmLink } from '../../../auth/confirm-link.js'
import { viewLink } from '../../../auth/view-link.js'
import { toSeconds } from '../../../clock.js'
import { answerConfirmed, confirmPage } from '../../pages/answers.js'
import type { ErrorHandler } from '../../pages/errors.js'
import { ConfirmFormSchema, given, LinkQuerySchema, single } from '../../pages/forms.js'
import type { PageReplies } from '../../pages/reply.js'
import type { App, RouteDeps } from '../../types.js'

/**
 * The link in the email, and the button on the page it opens. A link that cannot be used
 * answers with the page that says why (`errorHandler`), from either route.
 */
export function linkPageRoutes(
  app: App,
  deps: RouteDeps,
  { pages, errorHandler }: { pages: PageReplies; errorHandler: ErrorHandler },
): void {
  const query = { hide: true, querystring: LinkQuerySchema }
  app.get('/login/link', { schema: query, errorHandler }, async (request, reply) => {
    const token = single(request.query.token) ?? ''
    const now = toSeconds(deps.clock())
    // A dry run: checks the link and names its user; nothing is consumed or set. The view is
    // recorded (scanner telemetry), HEAD included: Fastify answers HEAD through this route.
    const link = await viewLink(deps, {
      token,
      redirectTo: given(request.query.next),
      ip: request.ip,
      method: request.method === 'HEAD' ? 'HEAD' : 'GET',
      askedHere: (userId) => pages.browser.isBoundTo(request, userId, now),
      userAgent: request.headers['user-agent'],
      unrecorded: (err) => request.log.warn({ err }, 'a link view was not recorded'),
    })
    return pages.send(request, reply, confirmPage('confirm', link, token))
  })

  const form = { hide: true, body: ConfirmFormSchema }
  app.post('/login/link', { schema: form, errorHandler }, async (request, reply) => {
    const token = single(request.body.token) ?? ''
    const now = toSeconds(deps.clock())
    const result = await confirmLink(deps, {
      token,
      redirectTo: given(request.body.next),
      ip: request.ip,
      elsewhereConfirmed: request.body.elsewhere === 'confirmed',
      askedHere: (userId) => pages.browser.isBoundTo(request, userId, now),
      userAgent: request.headers['user-agent'],
    })
    return answerConfirmed(pages, request, reply, { result, token, now })
  })
}
