import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type {
  FastifyBaseLogger,
  FastifyInstance,
  onRequestAsyncHookHandler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify'
import type { ApiKeys } from '../auth/api-keys.js'
import type { AuthDeps } from '../auth/deps.js'
import type { Limits } from '../limits/limits.js'
import type { Metrics } from '../metrics/index.js'
import type { OutboxWorker } from '../outbox/worker.js'
import type { Periodic } from '../periodic.js'
import type { Pages } from './pages/render.js'

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>

export interface RouteDeps extends AuthDeps {
  readonly apiKeys: ApiKeys
  /** Every limit's counters; the HTTP limits count in them, as the recipient budget does. */
  readonly limits: Limits
  /** What `GET /metrics` shows; the HTTP layer adds its request metrics to it. */
  readonly metrics: Metrics
  /** The pages, with the operator's templates (TEMPLATES_DIR), brand colour and logo. */
  readonly pages: Pages
}

/** What stands before a route: who may call it, and how often. */
export interface Guards {
  /** A service (or admin) API key, then its rate limit. */
  service: onRequestAsyncHookHandler[]
  /** An admin API key, then its rate limit. */
  admin: onRequestAsyncHookHandler[]
  /** A metrics (or admin) API key, then its rate limit. */
  metrics: onRequestAsyncHookHandler[]
  /** No key: the client IP address's rate limit. */
  public: onRequestAsyncHookHandler
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The email outbox worker (app.ts starts and stops it). */
    outbox: OutboxWorker
    /** The periodic chores besides sending (app.ts starts and stops them). */
    housekeeping: Periodic
  }
}
