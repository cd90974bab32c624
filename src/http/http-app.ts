import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import type { Config } from '../config/index.js'
import { InvalidRequest, Unavailable } from '../errors.js'
import { UNMATCHED_ROUTE } from '../metrics/index.js'
import { requireRole } from './api-key-auth.js'
import { browserSecurity } from './browser.js'
import { connectionOptions } from './connections.js'
import { errorHandler, notFoundHandler } from './problem.js'
import { rateLimits } from './rate-limit/limits.js'
import { REQUEST_ID_HEADER, requestId } from './request-id.js'
import { RouteMethods } from './route-methods.js'
import { adminRoutes } from './routes/admin.js'
import { adminAuditRoutes } from './routes/admin-audit.js'
import { adminOutboxRoutes } from './routes/admin-outbox.js'
import { adminSessionRoutes } from './routes/admin-sessions.js'
import { adminStatsRoutes } from './routes/admin-stats.js'
import { adminSuppressionRoutes } from './routes/admin-suppressions.js'
import { codeRoutes } from './routes/codes.js'
import { healthRoutes } from './routes/health.js'
import { linkRoutes } from './routes/links.js'
import { metricsRoutes } from './routes/metrics.js'
import { pageRoutes } from './routes/pages/index.js'
import { revocationRoutes } from './routes/revocations.js'
import { sessionRoutes } from './routes/sessions.js'
import { webhookRoutes } from './routes/webhooks.js'
import { ProblemSchema } from './schemas.js'
import type { App, Guards, RouteDeps } from './types.js'

export interface HttpOptions {
  /** The service's logger (logging.ts's appLogger), which the app's request logs go to. */
  log: FastifyBaseLogger
  trustProxy: Config['trustProxy']
}

export const OPENAPI_INFO = {
  title: 'latchkey',
  description: 'Passwordless sign-in: magic links, session JWTs and one-call revocation.',
  version: '1',
  license: { name: 'MIT', identifier: 'MIT' },
}

/** Fastify's trustProxy. A hop count is given as the function it stands for (trust the N nearest
 * hops), which is what Fastify does with a number, and what its type declarations accept. */
function trustProxy(setting: Config['trustProxy']) {
  if (typeof setting !== 'number') return setting
  return (_address: string, hop: number) => hop < setting
}

export async function createHttpApp(deps: RouteDeps, options: HttpOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: options.log,
    trustProxy: trustProxy(options.trustProxy),
    bodyLimit: 16 * 1024,
    // A malformed URL (bad percent-encoding, an over-long parameter) is the client's mistake and
    // answers like any other: problem+json, without echoing the URL.
    frameworkErrors: (error, request, reply) =>
      errorHandler(new InvalidRequest('The URL is malformed.', { cause: error }), request, reply),
    ...connectionOptions(deps.config.server),
    genReqId: requestId,
    // Fastify's own 503 while closing is plain JSON; the onRequest hook below answers instead.
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>()
  // More connections than this are closed as they arrive, before they cost anything.
  app.server.maxConnections = deps.config.server.maxConnections
  const routes = new RouteMethods()
  app.addHook('onRoute', (route) => routes.add(route.url, route.method))

  // TypeBox validates requests: bodies exactly as sent (`"one_time": "false"` is an error, not a
  // quiet `false`), query strings and path parameters with string-to-number conversion. Unknown
  // body members are refused by the schemas rather than silently dropped.
  app.setValidatorCompiler(TypeBoxValidatorCompiler)

  // Action endpoints (revoke, disable, enable) take no body, and clients commonly send them with
  // a JSON content type anyway: an empty JSON body means no body. Everything else goes through
  // Fastify's own parser, with its prototype-poisoning protection.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined)
    return parseJson(request, body as string, done)
  })

  app.addSchema(ProblemSchema)
  app.setErrorHandler(errorHandler)
  const unrouted = notFoundHandler((path) => routes.of(path))
  app.setNotFoundHandler(unrouted)
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  // The three global hooks below do synchronous work only, so they are callback hooks: an async
  // hook costs every request a promise and a microtask turn for nothing.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id)
    // A request on a connection still open while the service stops: the client retries
    // elsewhere (Fastify sends `connection: close` with it).
    if (closing) return done(new Unavailable('The service is shutting down.'))
    // A request no route takes is answered before its body is read: a wrong method sent with a
    // body Fastify would refuse (415, bad JSON) is still 405, and nothing parses what no route
    // will use. Having answered, the hook does not call done: the request goes no further.
    if (request.is404) {
      unrouted(request, reply)
      return
    }
    done()
  })
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
    // API answers carry tokens, JWTs and user records: no cache may keep them.
    if (request.url.startsWith('/v1/')) reply.header('cache-control', 'no-store')
    done(null, payload)
  })
  // Every answer is counted by the route that took it, by its pattern: the URL would put user
  // ids (and, for a link page, tokens) into labels. A request no route took is one value.
  app.addHook('onResponse', (request, reply, done) => {
    deps.metrics.requests.observe({
      route: (!request.is404 && request.routeOptions.url) || UNMATCHED_ROUTE,
      method: request.method,
      status: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
    })
    done()
  })

  // Off in production unless DOCS=on: the document is public anyway (openapi.yaml), but an
  // operator decides whether an instance serves an interactive console. Off, /docs is a 404, and
  // neither the document's builder nor the console's files are loaded. The builder is registered
  // before any route, so that it sees them all.
  if (deps.config.docs) {
    const { default: swagger } = await import('@fastify/swagger')
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: OPENAPI_INFO,
        // Where this instance answers: Swagger UI's "Try it out" and generated clients call it.
        servers: [{ url: deps.config.publicUrl, description: 'This instance (PUBLIC_URL)' }],
        components: {
          securitySchemes: {
            apiKey: { type: 'http', scheme: 'bearer', description: 'An API key' },
          },
        },
      },
      refResolver: {
        buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`),
      },
    })
  }

  const limits = await rateLimits(app, deps)
  // Authentication first: the per-key limit counts the key that was presented and valid.
  const guards: Guards = {
    service: [requireRole(deps.apiKeys, 'service'), limits.perApiKey],
    admin: [requireRole(deps.apiKeys, 'admin'), limits.perApiKey],
    metrics: [requireRole(deps.apiKeys, 'metrics'), limits.perApiKey],
    public: limits.perClientIp,
  }

  if (deps.config.docs) {
    const { default: swaggerUi } = await import('@fastify/swagger-ui')
    await app.register(async (docs: App) => {
      docs.addHook('onRequest', guards.public)
      await docs.register(swaggerUi, { routePrefix: '/docs' })
    })
  }

  const browser = browserSecurity({
    key: deps.keyring.cookieKey,
    publicOrigin: new URL(deps.config.publicUrl).origin,
    bindingMaxAgeSeconds: deps.config.linkTtlMax,
  })
  // Form posts and cookies are for the pages only: the API keeps taking JSON alone (415
  // otherwise), and neither reads nor sets a cookie, so its requests skip both plugins' hooks.
  await app.register(async (pages: App) => {
    await pages.register(cookie)
    await pages.register(formbody, { bodyLimit: 16 * 1024 })
    pageRoutes(pages, deps, { browser, limits })
  })

  // Never limited: a probe that got a 429 would take a healthy instance out of service.
  healthRoutes(app, deps)
  linkRoutes(app, deps, guards)
  codeRoutes(app, deps, guards)
  sessionRoutes(app, deps, guards)
  adminRoutes(app, deps, guards)
  adminSessionRoutes(app, deps, guards)
  adminOutboxRoutes(app, deps, guards)
  adminSuppressionRoutes(app, deps, guards)
  metricsRoutes(app, deps, guards)
  adminAuditRoutes(app, deps, guards)
  adminStatsRoutes(app, deps, guards)
  revocationRoutes(app, deps, guards)
  webhookRoutes(app, deps)
  return app
}
