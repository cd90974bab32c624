import { linkViewStats } from '../../auth/link-stats.js'
import { LinkViewsQuerySchema, LinkViewsResponseSchema, problemResponses } from '../schemas.js'
import type { App, Guards, RouteDeps } from '../types.js'

/** Scanner telemetry for operators: what opened the links that were emailed, per domain. */
export function adminStatsRoutes(app: App, deps: RouteDeps, guards: Guards): void {
  app.get(
    '/v1/admin/stats/link-views',
    {
      onRequest: guards.admin,
      schema: {
        operationId: 'linkViewStats',
        tags: ['admin'],
        summary: 'Scanner telemetry: links emailed, opened, opened before the person, per domain',
        description:
          'Per recipient domain, for the sign-in emails sent since `since`: how many links were issued, opened (any GET or HEAD of the link page), opened before the person (a used link with a view before the person’s own: the first view with the binding cookie, else the last one before the link was used), opened only without the cookie (never used, and no view carried the binding cookie: a scanner prefetch, or another device abandoned), used, and the median seconds from the email to the first view. A link is its user and its expiry. At most 100,000 rows of each listing are read; `truncated` says when that bound was reached.',
        security: [{ apiKey: [] }],
        querystring: LinkViewsQuerySchema,
        response: { 200: LinkViewsResponseSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const stats = await linkViewStats(deps, { since: request.query.since })
      return {
        since: new Date(stats.since).toISOString(),
        until: new Date(stats.until).toISOString(),
        domains: stats.domains.map((d) => ({
          domain: d.domain,
          links_issued: d.linksIssued,
          links_opened: d.linksOpened,
          opened_before_person: d.openedBeforePerson,
          opened_only_without_cookie: d.openedOnlyWithoutCookie,
          used: d.used,
          median_seconds_to_first_view: d.medianSecondsToFirstView,
        })),
        truncated: stats.truncated,
      }
    },
  )
}
