import type { DestinationStream } from 'pino'
import { ApiKeys } from './auth/api-keys.js'
import { type Clock, systemClock } from './clock.js'
import type { Config } from './config.js'
import { ConfigError } from './errors.js'
import { createHttpApp } from './http/http-app.js'
import type { App, RouteDeps } from './http/types.js'
import { LogTransport } from './mail/log-transport.js'
import type { Mailer } from './mail/mailer.js'
import { SessionKeys } from './sessions/jwt.js'
import { KeyRing } from './tokens/keyring.js'
import { SqliteUserStore } from './users/sqlite-store.js'
import type { UserStore } from './users/store.js'

export interface AppOverrides {
  clock?: Clock
  mailer?: Mailer
  store?: UserStore
  logStream?: DestinationStream
}

/** Everything the use cases need, built once from the configuration. */
export async function buildDeps(config: Config, overrides: AppOverrides = {}): Promise<RouteDeps> {
  return {
    config,
    store: overrides.store ?? openStore(config),
    sessions: await loadSessionKeys(config),
    keyring: new KeyRing(
      config.linkSecrets.map((s) => ({ kid: s.kid, secret: Buffer.from(s.secret, 'base64url') })),
    ),
    mailer: overrides.mailer ?? createMailer(config),
    clock: overrides.clock ?? systemClock,
    apiKeys: new ApiKeys(config.apiKeys),
  }
}

/**
 * Wiring only: the dependencies, handed to the HTTP layer. Returns a ready Fastify instance;
 * closing it closes the store it opened.
 */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const deps = await buildDeps(config, overrides)
  const app = await createHttpApp(deps, {
    logLevel: config.logLevel,
    trustProxy: config.trustProxy,
    logStream: overrides.logStream,
  })
  if (!overrides.store) app.addHook('onClose', async () => deps.store.close())
  await app.ready()
  return app
}

/** A session key config accepted by shape but unusable (wrong curve, mismatched pair) is a
 * configuration problem, reported like the others rather than as a crash. */
async function loadSessionKeys(config: Config): Promise<SessionKeys> {
  try {
    return await SessionKeys.load(config.sessionKeys, {
      issuer: config.publicUrl,
      audience: config.sessionAudience,
      ttlSeconds: config.sessionTtl,
    })
  } catch (error) {
    if (error instanceof TypeError) throw new ConfigError([error.message])
    throw error
  }
}

export function openStore(config: Config): UserStore {
  if (config.database.kind === 'sqlite') return SqliteUserStore.open(config.database.file)
  throw new ConfigError(['DATABASE_URL: PostgreSQL is not supported by this version yet'])
}

function createMailer(config: Config): Mailer {
  if (config.mail.transport === 'log') return new LogTransport()
  throw new ConfigError(['MAIL_TRANSPORT: resend is not supported by this version yet'])
}
