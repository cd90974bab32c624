import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config/index.js'
import { type BrowserSecurity, pageHeaders } from '../browser.js'
import { type Page, type PageLimit, renderPage } from './render.js'

/** How every page goes out: rendered for this app and this browser, under the page headers. */
export interface PageReplies {
  /** What the pages know of the browser: its form token, binding and session cookies. */
  readonly browser: BrowserSecurity
  /** The sites a successful sign-in may redirect to (ALLOWED_REDIRECTS). */
  readonly targets: readonly string[]
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

export function pageReplies(config: Config, browser: BrowserSecurity): PageReplies {
  const targets = config.allowedRedirects
  const send: PageReplies['send'] = (request, reply, page, status = 200) =>
    pageHeaders(reply.code(status), targets).send(
      renderPage({
        ...page,
        appName: config.mail.appName,
        csrf: browser.csrfToken(request, reply),
      }),
    )
  return {
    browser,
    targets,
    send,
    tooMany(request, reply, limit, retryAfterSeconds, next) {
      reply.header('retry-after', String(retryAfterSeconds))
      return send(request, reply, { name: 'rate-limited', limit, retryAfterSeconds, next }, 429)
    },
    redirect: (reply, target) => pageHeaders(reply, targets).redirect(target, 303),
  }
}
