import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AskResult } from '../../auth/ask-for-link.js'
import type { ConfirmResult } from '../../auth/confirm-link.js'
import type { EnterCodeResult } from '../../auth/enter-code.js'
import type { User } from '../../store/users.js'
import type { Page } from './render.js'
import type { PageReplies } from './reply.js'

/**
 * What the pages show for what a use case decided. The decisions are made in auth/; here they
 * only become pages, cookies and redirects.
 */

/** POST /login: the same "sent" page for every address; the form again for a malformed one. */
export function answerAsked(
  pages: PageReplies,
  request: FastifyRequest,
  reply: FastifyReply,
  {
    asked,
    email,
    next,
    masked = false,
  }: { asked: AskResult; email: string; next: string | undefined; masked?: boolean },
): FastifyReply {
  switch (asked.kind) {
    case 'limited':
      return pages.tooMany(request, reply, 'recipient', asked.retryAfterSeconds, next)
    case 'invalid_email': {
      const page: Page = { name: 'login', next, email, error: 'login.invalidEmail' }
      return pages.send(request, reply, page, 400)
    }
    case 'sent':
      return pages.send(request, reply, { name: 'sent', email: email.trim(), next, masked })
  }
}

/**
 * The confirm page a link opens (and the second confirmation). Its form carries the target as
 * the link binds it (its canonical spelling), not as it was typed.
 */
export function confirmPage(
  name: 'confirm' | 'elsewhere',
  link: { user: User; redirectTo: string | null },
  token: string,
): Page {
  return { name, maskedEmail: mask(link.user.email), token, next: link.redirectTo ?? undefined }
}

/** POST /login/link: sign in here, hand off to the application, or ask once more. */
export function answerConfirmed(
  pages: PageReplies,
  request: FastifyRequest,
  reply: FastifyReply,
  { result, token, now }: { result: ConfirmResult; token: string; now: number },
): FastifyReply {
  switch (result.kind) {
    case 'elsewhere':
      return pages.send(request, reply, confirmPage('elsewhere', result, token))
    default:
      return answerSignedIn(pages, request, reply, { result, now })
  }
}

/**
 * A sign-in in this browser, by the confirm button or by a code: the session cookie (and on to
 * the target, or the signed-in page), the redirect with an exchange code, or why neither.
 */
function answerSignedIn(
  pages: PageReplies,
  request: FastifyRequest,
  reply: FastifyReply,
  { result, now }: { result: Exclude<ConfirmResult, { kind: 'elsewhere' }>; now: number },
): FastifyReply {
  switch (result.kind) {
    case 'refused':
      if (result.reason === 'no_target') {
        return pages.send(request, reply, { name: 'forbidden', message: 'forbidden.noTarget' }, 400)
      }
      return pages.send(request, reply, { name: 'link-error', reason: 'token_invalid' }, 400)
    case 'session': {
      const { user, session, redirectTo } = result
      pages.browser.unbind(reply)
      pages.browser.setSession(reply, session.jwt, session.expiresAt - now)
      if (!redirectTo) return pages.send(request, reply, { name: 'signed-in', email: user.email })
      return pages.redirect(reply, redirectTo)
    }
    case 'code':
      pages.browser.unbind(reply)
      return pages.redirect(reply, result.target)
  }
}

/**
 * POST /login/code: signed in as the confirm button signs in; a wrong code gets the "check your
 * email" page again with a word by the field (401, the API's status for it), the same for every
 * address; past the guess budget, the rate-limited page.
 */
export function answerCode(
  pages: PageReplies,
  request: FastifyRequest,
  reply: FastifyReply,
  {
    result,
    email,
    next,
    now,
  }: { result: EnterCodeResult; email: string; next: string | undefined; now: number },
): FastifyReply {
  switch (result.kind) {
    case 'limited':
      return pages.tooMany(request, reply, 'code', result.retryAfterSeconds, next)
    case 'wrong': {
      const page: Page = { name: 'sent', email: email.trim(), next, codeError: 'sent.wrongCode' }
      return pages.send(request, reply, page, 401)
    }
    default:
      return answerSignedIn(pages, request, reply, { result, now })
  }
}

/** a•••@example.com: enough for a person to recognise, not enough to harvest. */
export function mask(email: string): string {
  const at = email.lastIndexOf('@')
  return `${email.slice(0, 1)}•••${email.slice(at)}`
}
