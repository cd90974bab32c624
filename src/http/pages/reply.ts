import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config, Locale } from '../../config/index.js'
import type { Texts } from '../../mail/locales/index.js'
import { type BrowserSecurity, pageHeaders } from '../browser.js'
import type { Page, PageLimit, Pages } from './render.js'

/** How every page goes out: rendered for this app and this browser, under the page headers. */
export interface PageReplies {
  /** What the pages know of the browser: its form token, binding and session cookies. */
  readonly browser: BrowserSecurity
  /** The sites a successful sign-in may redirect to (ALLOWED_REDIRECTS). */
  readonly targets: readonly string[]
  /** The templates, stylesheet, logo and favicon of this deployment. */
  readonly pages: Pages
  /**
   * The language of this request's pages: the best of LOCALES for its Accept-Language, else
   * DEFAULT_LOCALE. An email the page asks for is written in it too.
   */
  locale(request: FastifyRequest): Locale
  send(request: FastifyRequest, reply: FastifyReply, page: Page, status?: number): FastifyReply
  /** 429, as a page that says how long to wait; Retry-After says it to the browser too. */
  tooMany(
    request: FastifyRequest,
    reply: FastifyReply,
    limit: PageLimit,
    retryAfterSeconds: number,
    next?: string,
  ): FastifyReply
  /** 303: the browser follows with a GET, and never caches the hop (301 would). */
  redirect(reply: FastifyReply, target: string): FastifyReply
}

export function pageReplies(
  config: Config,
  texts: Texts,
  pages: Pages,
  browser: BrowserSecurity,
): PageReplies {
  const targets = config.allowedRedirects
  const locale = (request: FastifyRequest): Locale =>
    texts.negotiate(request.headers['accept-language'])
  const send: PageReplies['send'] = (request, reply, page, status = 200) => {
    const chosen = locale(request)
    return pageHeaders(reply.code(status), targets)
      .header('content-language', chosen)
      .header('vary', 'Accept-Language')
      .send(
        pages.render({
          ...page,
          appName: config.mail.appName,
          csrf: browser.csrfToken(request, reply),
          translator: texts.translator(chosen),
        }),
      )
  }
  return {
    browser,
    targets,
    pages,
    locale,
    send,
    tooMany(request, reply, limit, retryAfterSeconds, next) {
      reply.header('retry-after', String(retryAfterSeconds))
      return send(request, reply, { name: 'rate-limited', limit, retryAfterSeconds, next }, 429)
    },
    redirect: (reply, target) => pageHeaders(reply, targets).redirect(target, 303),
  }
}
