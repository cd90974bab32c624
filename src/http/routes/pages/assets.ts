import { STYLESHEET_PATH, stylesheet } from '../../pages/render.js'
import type { App } from '../../types.js'

export function assetRoutes(app: App): void {
  // The one stylesheet every page shares; revalidated by ETag, since its path carries no version.
  app.get(STYLESHEET_PATH, { schema: { hide: true } }, async (request, reply) => {
    const { body, etag } = stylesheet()
    reply.header('etag', etag).header('cache-control', 'public, max-age=3600')
    if (request.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type('text/css; charset=utf-8').send(body)
  })
}
