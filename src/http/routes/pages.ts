import { confirmLink } from '../../auth/confirm-link.js'
import { issueLink } from '../../auth/issue-link.js'
import { checkRedirect } from '../../auth/redirect.js'
import { verifyLink } from '../../auth/verify-link.js'
import { toSeconds } from '../../clock.js'
import { LatchkeyError, RateLimited, Unavailable } from '../../errors.js'
import { type BrowserSecurity, pageHeaders } from '../browser.js'
import {
  LINK_ERROR_REASONS,
  type LinkErrorReason,
  type Page,
  renderPage,
  STYLESHEET_PATH,
  stylesheet,
} from '../pages/render.js'
import { errorHandler, UNAVAILABLE_RETRY_SECONDS } from '../problem.js'
import type { RateLimits } from '../rate-limit/limits.js'
import type { App, RouteDeps } from '../types.js'

type Form = Record<string, unknown>

const REASONS = new Set<string>(LINK_ERROR_REASONS)

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
  const { config } = deps
  const formTargets = config.allowedRedirects
  const hidden = { schema: { hide: true } }

  const send = (
    request: Parameters<BrowserSecurity['csrfToken']>[0],
    reply: Parameters<BrowserSecurity['csrfToken']>[1],
    page: Page,
    status = 200,
  ) =>
    pageHeaders(reply.code(status), formTargets).send(
      renderPage({
        ...page,
        appName: config.mail.appName,
        csrf: browser.csrfToken(request, reply),
      }),
    )

  /** 429, as a page that says how long to wait; Retry-After says it to the browser too. */
  const tooMany = (
    request: Parameters<typeof send>[0],
    reply: Parameters<typeof send>[1],
    limit: 'ip' | 'recipient' | 'form',
    retryAfterSeconds: number,
    next?: string,
  ) => {
    reply.header('retry-after', String(retryAfterSeconds))
    return send(request, reply, { name: 'rate-limited', limit, retryAfterSeconds, next }, 429)
  }

  // People get pages, not problem documents: when the database does not answer, and when a
  // request is refused before a handler runs (a body too large, of another type, malformed:
  // nothing our own forms send). Anything else, a bug, goes to the one handler, as for the API.
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: unknown }).statusCode
    if (
      !(error instanceof LatchkeyError) &&
      typeof status === 'number' &&
      status >= 400 &&
      status < 500
    ) {
      return send(request, reply, { name: 'forbidden', message: unreadableMessage }, status)
    }
    if (!(error instanceof Unavailable)) return errorHandler(error as Error, request, reply)
    request.log.error({ err: error.cause ?? error }, 'request failed')
    reply.header('retry-after', String(UNAVAILABLE_RETRY_SECONDS))
    const form = (request.body ?? request.query ?? {}) as Form
    return send(request, reply, { name: 'unavailable', next: safeNext(form.next) }, 503)
  })

  // Every page counts against the client's IP address, before anything else is done for the
  // request. The stylesheet counts too, in an allowance of its own: a browser asks for it about
  // once an hour (it is cached), and the page saying "too many requests" needs it as well.
  app.addHook('onRequest', async (request, reply) => {
    const asset = request.routeOptions.url === STYLESHEET_PATH
    const verdict = await limits.clientIp(request, asset ? 'ip-asset' : 'ip')
    if (!verdict.allowed) return tooMany(request, reply, 'ip', verdict.retryAfterSeconds)
  })

  /** A target from a query string or form: kept only when it is one we would redirect to. */
  const safeNext = (value: unknown): string | undefined => {
    if (typeof value !== 'string' || value === '') return undefined
    try {
      return checkRedirect(value, config.allowedRedirects)
    } catch {
      return undefined
    }
  }

  const linkError = (error: unknown): LinkErrorReason => {
    if (error instanceof LatchkeyError && REASONS.has(error.code)) {
      return error.code as LinkErrorReason
    }
    throw error
  }

  // The one stylesheet every page shares; revalidated by ETag, since its path carries no version.
  app.get(STYLESHEET_PATH, hidden, async (request, reply) => {
    const { body, etag } = stylesheet()
    reply.header('etag', etag).header('cache-control', 'public, max-age=3600')
    if (request.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type('text/css; charset=utf-8').send(body)
  })

  app.get('/login', hidden, async (request, reply) => {
    const query = request.query as Form
    return send(request, reply, { name: 'login', next: safeNext(query.next) })
  })

  app.post('/login', hidden, async (request, reply) => {
    const form = (request.body ?? {}) as Form
    const next = safeNext(form.next)
    if (!browser.formIsOurs(request, form.csrf)) {
      return send(request, reply, { name: 'forbidden', message: forbiddenMessage }, 403)
    }
    // The emails one client address asks for, whichever addresses they go to: the recipient
    // limit holds each inbox to a few, this holds a script (one form token, posted again and
    // again) to a few in all, and so the users it can create. Counted before the address is
    // even read: the same for every address, known, unknown, disabled or not one at all.
    const budget = await limits.formEmails(request)
    if (!budget.allowed) return tooMany(request, reply, 'form', budget.retryAfterSeconds, next)
    const email = typeof form.email === 'string' ? form.email : ''
    let issued: Awaited<ReturnType<typeof issueLink>>
    try {
      issued = await issueLink(deps, {
        email,
        redirectTo: next,
        deliver: 'email',
        // HOSTED_SIGNUP=false: existing users only. An unknown address gets the same page and
        // the same work, its row suppressed in the outbox, as create_user: false on the API.
        createUser: config.hostedSignup,
        browserBound: true,
      })
    } catch (error) {
      // The same page for every address, known, unknown or disabled: the limit counts them alike.
      if (error instanceof RateLimited) {
        return tooMany(request, reply, 'recipient', error.retryAfterSeconds, next)
      }
      if (error instanceof LatchkeyError && error.code === 'invalid_request') {
        const page: Page = { name: 'login', next, email, error: 'Enter a valid email address.' }
        return send(request, reply, page, 400)
      }
      throw error
    }
    // This browser asked: a link for this user opened here signs in with one click.
    browser.bind(reply, issued.userId, toSeconds(deps.clock()))
    return send(request, reply, { name: 'sent', email: email.trim(), next })
  })

  app.get('/login/link', hidden, async (request, reply) => {
    const query = request.query as Form
    const token = typeof query.token === 'string' ? query.token : ''
    const next = typeof query.next === 'string' && query.next !== '' ? query.next : undefined
    try {
      // A dry run: checks the link and names its user; nothing is consumed or set. The form
      // carries the target as the link binds it (its canonical spelling), not as it was typed.
      const { user, redirectTo } = await verifyLink(deps, {
        token,
        redirectTo: next,
        ip: request.ip,
        consume: false,
      })
      const page: Page = {
        name: 'confirm',
        maskedEmail: mask(user.email),
        token,
        next: redirectTo ?? undefined,
      }
      return send(request, reply, page)
    } catch (error) {
      return send(request, reply, { name: 'link-error', reason: linkError(error) }, 400)
    }
  })

  app.post('/login/link', hidden, async (request, reply) => {
    const form = (request.body ?? {}) as Form
    const token = typeof form.token === 'string' ? form.token : ''
    const next = typeof form.next === 'string' && form.next !== '' ? form.next : undefined
    if (!browser.formIsOurs(request, form.csrf)) {
      return send(request, reply, { name: 'forbidden', message: forbiddenMessage }, 403)
    }
    const now = toSeconds(deps.clock())
    try {
      const result = await confirmLink(deps, {
        token,
        redirectTo: next,
        ip: request.ip,
        elsewhereConfirmed: form.elsewhere === 'confirmed',
        askedHere: (userId) => browser.isBoundTo(request, userId, now),
      })
      switch (result.kind) {
        case 'elsewhere': {
          const { user, redirectTo } = result
          const page: Page = {
            name: 'elsewhere',
            maskedEmail: mask(user.email),
            token,
            next: redirectTo ?? undefined,
          }
          return send(request, reply, page)
        }
        case 'refused':
          if (result.reason === 'no_target') {
            return send(request, reply, { name: 'forbidden', message: noTargetMessage }, 400)
          }
          return send(request, reply, { name: 'link-error', reason: 'token_invalid' }, 400)
        case 'session': {
          const { user, session, redirectTo } = result
          browser.unbind(reply)
          browser.setSession(reply, session.jwt, session.expiresAt - now)
          if (!redirectTo) return send(request, reply, { name: 'signed-in', email: user.email })
          // 303: the browser follows with a GET, and never caches the hop (301 would).
          return pageHeaders(reply, formTargets).redirect(redirectTo, 303)
        }
        case 'code':
          browser.unbind(reply)
          return pageHeaders(reply, formTargets).redirect(result.target, 303)
      }
    } catch (error) {
      return send(request, reply, { name: 'link-error', reason: linkError(error) }, 400)
    }
  })

  // Signing out changes state, so it takes the same proof as every other form: a page of ours,
  // in this browser. An application that signs people out sends them to GET /logout, which only
  // shows the button: a sibling site posting here blindly would log people out at will.
  app.get('/logout', hidden, async (request, reply) => {
    const query = request.query as Form
    return send(request, reply, { name: 'logout', next: safeNext(query.next) })
  })

  app.post('/logout', hidden, async (request, reply) => {
    const form = (request.body ?? {}) as Form
    if (!browser.formIsOurs(request, form.csrf)) {
      return send(request, reply, { name: 'forbidden', message: forbiddenMessage }, 403)
    }
    browser.clearSession(reply)
    return pageHeaders(reply, formTargets).redirect(safeNext(form.next) ?? '/login', 303)
  })
}

const noTargetMessage =
  'This sign-in link does not say which application to return to. Please start again from the application.'

const unreadableMessage =
  'This request could not be read. Please go back to the sign-in page and start again.'

const forbiddenMessage =
  'This form was not sent from this site, or the page was open too long. Please start again.'

/** a•••@example.com: enough for a person to recognise, not enough to harvest. */
function mask(email: string): string {
  const at = email.lastIndexOf('@')
  return `${email.slice(0, 1)}•••${email.slice(at)}`
}
