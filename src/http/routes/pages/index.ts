import type { BrowserSecurity } from '../../browser.js'
import { linkErrorHandler, pageErrorHandler } from '../../pages/errors.js'
import { memberOf } from '../../pages/forms.js'
import { pageReplies } from '../../pages/reply.js'
import type { RateLimits } from '../../rate-limit/limits.js'
import type { App, RouteDeps } from '../../types.js'
import { ASSET_PATHS, assetRoutes } from './assets.js'
import { codePageRoutes } from './code.js'
import { linkPageRoutes } from './link.js'
import { loginRoutes } from './login.js'
import { logoutRoutes } from './logout.js'
import { reportRoutes } from './report.js'
import { resendRoutes } from './resend.js'

/**
 * The pages people see: the email form, the confirm page a link opens, and the handoff to the
 * application. GET and HEAD never change anything (mail scanners and link previews open links
 * before people do); only an explicit POST from our own page uses a link up.
 */
export function pageRoutes(
  app: App,
  deps: RouteDeps,
  { browser, limits }: { browser: BrowserSecurity; limits: RateLimits },
): void {
  const pages = pageReplies(deps.config, deps.texts, deps.pages, browser)
  const pageErrors = pageErrorHandler(pages)
  app.setErrorHandler(pageErrors)

  // Every page counts against the client's IP address, before anything else is done for the
  // request. The stylesheet counts too, in an allowance of its own: a browser asks for it about
  // once an hour (it is cached), and the page saying "too many requests" needs it as well.
  app.addHook('onRequest', async (request, reply) => {
    const asset = ASSET_PATHS.has(request.routeOptions.url ?? '')
    const verdict = await limits.clientIp(request, asset ? 'ip-asset' : 'ip')
    if (!verdict.allowed) return pages.tooMany(request, reply, 'ip', verdict.retryAfterSeconds)
  })

  // Every form changes something, so every form post takes the same proof: a page of ours, in
  // this browser. It is checked before the form is validated or used: a post from elsewhere
  // gets the same refusal whatever it sent.
  app.addHook('preValidation', async (request, reply) => {
    if (request.method !== 'POST') return
    if (!browser.formIsOurs(request, memberOf(request.body, 'csrf'))) {
      return pages.send(request, reply, { name: 'forbidden', message: 'forbidden.crossSite' }, 403)
    }
  })

  assetRoutes(app, pages.pages)
  loginRoutes(app, deps, { pages, limits })
  codePageRoutes(app, deps, pages)
  const linkErrors = linkErrorHandler(pages, pageErrors)
  linkPageRoutes(app, deps, { pages, errorHandler: linkErrors })
  resendRoutes(app, deps, { pages, limits, errorHandler: linkErrors })
  reportRoutes(app, deps, { pages, errorHandler: linkErrors })
  logoutRoutes(app, deps, pages)
}
