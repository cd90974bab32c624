import { enterCode } from '../../../auth/enter-code.js'
import { toSeconds } from '../../../clock.js'
import { answerCode } from '../../pages/answers.js'
import { CodeFormSchema, nextOf, single } from '../../pages/forms.js'
import type { PageReplies } from '../../pages/reply.js'
import type { App, RouteDeps } from '../../types.js'

/**
 * The code form of the "check your email" page: a right code signs in this browser, whichever
 * device read the email. The form's CSRF and origin are checked for every page post (index.ts).
 */
export function codePageRoutes(app: App, deps: RouteDeps, pages: PageReplies): void {
  const form = { hide: true, body: CodeFormSchema }
  app.post('/login/code', { schema: form }, async (request, reply) => {
    const email = single(request.body.email) ?? ''
    const next = nextOf(request.body.next, pages.targets)
    const result = await enterCode(deps, {
      email,
      code: single(request.body.code) ?? '',
      ip: request.ip,
      userAgent: request.headers['user-agent'],
    })
    return answerCode(pages, request, reply, {
      result,
      email,
      next,
      now: toSeconds(deps.clock()),
    })
  })
}
