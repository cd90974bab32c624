import { endHostedSession } from '../../../auth/end-session.js'
import { LogoutFormSchema, nextOf, showsForm } from '../../pages/forms.js'
import type { PageReplies } from '../../pages/reply.js'
import type { App, RouteDeps } from '../../types.js'

/**
 * Signing out ends the cookie's session (its JWT then introspects as session_ended) and
 * clears the cookie. It changes state, so it takes the same proof as every other form: a page of ours,
 * in this browser. An application that signs people out sends them to GET /logout, which only
 * shows the button: a sibling site posting here blindly would log people out at will.
 */
export function logoutRoutes(app: App, deps: RouteDeps, pages: PageReplies): void {
  app.get('/logout', { schema: showsForm }, async (request, reply) => {
    const next = nextOf(request.query.next, pages.targets)
    return pages.send(request, reply, { name: 'logout', next })
  })

  app.post(
    '/logout',
    { schema: { hide: true, body: LogoutFormSchema } },
    async (request, reply) => {
      await endHostedSession(deps, pages.browser.sessionOf(request), {
        ip: request.ip,
        userAgent: request.headers['user-agent'],
      })
      pages.browser.clearSession(reply)
      return pages.redirect(reply, nextOf(request.body.next, pages.targets) ?? '/login')
    },
  )
}
