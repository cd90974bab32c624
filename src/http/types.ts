import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify'
import type { ApiKeys } from '../auth/api-keys.js'
import type { AuthDeps } from '../auth/deps.js'
import type { OutboxWorker } from '../auth/outbox-worker.js'

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>

export interface RouteDeps extends AuthDeps {
  apiKeys: ApiKeys
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The email outbox worker (app.ts starts and stops it). */
    outbox: OutboxWorker
  }
}
