import { askForLink } from '../../../auth/ask-for-link.js'
import { toSeconds } from '../../../clock.js'
import { answerAsked } from '../../pages/answers.js'
import { LoginFormSchema, nextOf, showsForm, single } from '../../pages/forms.js'
import type { PageReplies } from '../../pages/reply.js'
import type { RateLimits } from '../../rate-limit/limits.js'
import type { App, RouteDeps } from '../../types.js'

/** The email form, and the link it asks for. */
export function loginRoutes(
  app: App,
  deps: RouteDeps,
  { pages, limits }: { pages: PageReplies; limits: RateLimits },
): void {
  app.get('/login', { schema: showsForm }, async (request, reply) => {
    const next = nextOf(request.query.next, pages.targets)
    return pages.send(request, reply, { name: 'login', next })
  })

  app.post('/login', { schema: { hide: true, body: LoginFormSchema } }, async (request, reply) => {
    const email = single(request.body.email) ?? ''
    const next = nextOf(request.body.next, pages.targets)
    // The emails one client address asks for, whichever addresses they go to: the recipient
    // limit holds each inbox to a few, this holds a script (one form token, posted again and
    // again) to a few in all, and so the users it can create. Counted before the address is
    // even read: the same for every address, known, unknown, disabled or not one at all.
    const budget = await limits.formEmails(request)
    if (!budget.allowed) {
      return pages.tooMany(request, reply, 'form', budget.retryAfterSeconds, next)
    }
    const asked = await askForLink(deps, { email, redirectTo: next, locale: pages.locale(request) })
    // This browser asked: a link for this user opened here signs in with one click.
    if (asked.kind === 'sent') pages.browser.bind(reply, asked.userId, toSeconds(deps.clock()))
    return answerAsked(pages, request, reply, { asked, email, next })
  })
}
