import { resendLink } from '../../../auth/resend-link.js'
import { toSeconds } from '../../../clock.js'
import { answerAsked, mask } from '../../pages/answers.js'
import type { ErrorHandler } from '../../pages/errors.js'
import { nextOf, ResendFormSchema, single } from '../../pages/forms.js'
import type { PageReplies } from '../../pages/reply.js'
import type { RateLimits } from '../../rate-limit/limits.js'
import type { App, RouteDeps } from '../../types.js'

/** "Email me a new link": the button on an expired or used link's page. */
export function resendRoutes(
  app: App,
  deps: RouteDeps,
  {
    pages,
    limits,
    errorHandler,
  }: { pages: PageReplies; limits: RateLimits; errorHandler: ErrorHandler },
): void {
  const form = { hide: true, body: ResendFormSchema }
  app.post('/login/resend', { schema: form, errorHandler }, async (request, reply) => {
    // Checked once, as every page does with a target: one the link does not bind fails its MAC.
    const next = nextOf(request.body.next, pages.targets)
    // The form's own budget, as POST /login counts it: this is an email asked for from here.
    const budget = await limits.formEmails(request)
    if (!budget.allowed) {
      return pages.tooMany(request, reply, 'form', budget.retryAfterSeconds, next)
    }
    const asked = await resendLink(deps, {
      token: single(request.body.token) ?? '',
      redirectTo: next,
      ip: request.ip,
      locale: pages.locale(request),
    })
    // This browser asked: the new link opened here signs in with one click.
    if (asked.kind === 'sent') pages.browser.bind(reply, asked.userId, toSeconds(deps.clock()))
    // The form's own page, with the address masked as the link's own page shows it: an old
    // link (from a browser's history, a forwarded message) must not reveal whose it was. So no
    // code form either, which would carry the address: the new link signs in here with one click.
    const email = asked.kind === 'sent' ? mask(asked.email) : ''
    return answerAsked(pages, request, reply, { asked, email, next, masked: true })
  })
}
