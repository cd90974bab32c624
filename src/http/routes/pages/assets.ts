import type { FastifyReply, FastifyRequest } from 'fastify'
import { LOGO_PATH } from '../../../mail/look.js'
import { type Asset, FAVICON_PATH, type Pages, STYLESHEET_PATH } from '../../pages/render.js'
import type { App } from '../../types.js'

/** The files the pages load; they count against a client's IP in an allowance of their own. */
export const ASSET_PATHS = new Set([STYLESHEET_PATH, FAVICON_PATH, '/favicon.ico', LOGO_PATH])

export function assetRoutes(app: App, pages: Pages): void {
  const schema = { hide: true }
  // Revalidated by ETag, since the paths carry no version: a restart with another stylesheet,
  // BRAND_COLOR or logo shows within the hour.
  const serve = (file: Asset) => async (request: FastifyRequest, reply: FastifyReply) => {
    reply
      .header('etag', file.etag)
      .header('cache-control', 'public, max-age=3600')
      .header('x-content-type-options', 'nosniff')
    // An SVG opened on its own is a document: it may run nothing and load nothing.
    if (file.type === 'image/svg+xml') {
      reply.header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      )
    }
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send()
    return reply.type(file.type).send(file.body)
  }
  app.get(STYLESHEET_PATH, { schema }, serve(pages.stylesheet))
  app.get(FAVICON_PATH, { schema }, serve(pages.favicon))
  // Where browsers look for an icon when a page names none (a PDF, an error from elsewhere).
  app.get('/favicon.ico', { schema }, async (_request, reply) => reply.redirect(FAVICON_PATH, 301))
  // LOGO_FILE, served by latchkey itself: pages link it, and emails load it from PUBLIC_URL, so
  // no third party learns who opened an email.
  if (pages.logo) app.get(LOGO_PATH, { schema }, serve(pages.logo))
}
