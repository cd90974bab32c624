import type { DestinationStream } from 'pino'
import { ApiKeys } from './auth/api-keys.js'
import { pruneAuditEvents } from './auth/audit-trail.js'
import { pruneProviderEvents } from './auth/delivery-feedback.js'
import { pruneSessions } from './auth/manage-sessions.js'
import { outboxJobs } from './auth/outbox-jobs.js'
import { DEFAULT_PRUNE_OPTIONS, type PruneOptions, pruneUnused } from './auth/prune-unused.js'
import { type Clock, systemClock } from './clock.js'
import { type Config, SHIPPED_LOCALES } from './config/index.js'
import { ConfigError } from './errors.js'
import { webhookAnnouncer } from './events/webhooks.js'
import { createHttpApp } from './http/http-app.js'
import { appLogger } from './http/logging.js'
import { PAGE_TEMPLATES, pageRenderer } from './http/pages/render.js'
import type { App, RouteDeps } from './http/types.js'
import type { CounterLog } from './limits/counters.js'
import { Limits } from './limits/limits.js'
import { buildTexts, translator } from './mail/locales/index.js'
import { LogTransport } from './mail/log-transport.js'
import { loadLook, unknownTemplates } from './mail/look.js'
import type { Mailer } from './mail/mailer.js'
import { linkMessages, MAIL_TEMPLATES } from './mail/templates/link.js'
import { Metrics } from './metrics/index.js'
import { OutboxBell } from './outbox/bell.js'
import { JOB_KINDS } from './outbox/jobs.js'
import { type OutboxOptions, OutboxWorker } from './outbox/worker.js'
import { Periodic, type PeriodicOptions } from './periodic.js'
import { SessionKeys } from './sessions/jwt.js'
import type { EventAnnouncer } from './store/announce.js'
import type { Store } from './store/index.js'
import { KeyRing } from './tokens/keyring.js'

export interface AppOverrides {
  clock?: Clock
  mailer?: Mailer
  store?: Store
  logStream?: DestinationStream
  /** Prefix of the rate-limit counters' keys in Redis, instead of REDIS_KEY_PREFIX + `rl:` (tests). */
  redisPrefix?: string
  /** Outbox settings; `autoStart: false` leaves sending to explicit `app.outbox.runOnce()`. */
  outbox?: Partial<OutboxOptions> & { autoStart?: boolean }
  /**
   * Housekeeping settings; `autoStart: false` leaves it to explicit `app.housekeeping.runDue()`.
   * Started as the outbox is unless said otherwise: an app that sends by hand tidies by hand.
   */
  housekeeping?: Partial<PruneOptions & PeriodicOptions> & { autoStart?: boolean }
  /**
   * `false`: count in this process even when REDIS_URL is set, for a command that sends no email
   * and so counts nothing (it need not wait for Redis, nor warn when Redis is down).
   */
  sharedCounters?: boolean
}

/**
 * Builds each in turn; the configuration problems of all of them refuse to start together, so an
 * operator with a broken email and a broken page template hears of both at once.
 */
function refusedTogether<A, B>(first: () => A, second: () => B): [A, B] {
  const problems: string[] = []
  const attempt = <T>(build: () => T): T | undefined => {
    try {
      return build()
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      problems.push(...error.problems)
      return undefined
    }
  }
  const a = attempt(first)
  const b = attempt(second)
  if (problems.length > 0) throw new ConfigError(problems)
  return [a as A, b as B]
}

/**
 * Everything the use cases need, built once from the configuration, parts first: the counters
 * (in Redis when REDIS_URL is set; `log` hears when Redis fails), the metrics (which read the
 * store and the counters' state when scraped) and the outbox bell are passed in, never put in
 * afterwards. Whoever builds them closes the store and the limits.
 */
export async function buildDeps(
  config: Config,
  overrides: AppOverrides,
  log: CounterLog,
): Promise<RouteDeps> {
  const clock = overrides.clock ?? systemClock
  // What can still fail on the configuration comes first, before anything is opened.
  const sessions = await loadSessionKeys(config)
  const look = loadLook(config.look)
  const strays = unknownTemplates(look, [...PAGE_TEMPLATES, ...MAIL_TEMPLATES])
  if (strays.length > 0) throw new ConfigError(strays)
  // The email and the pages side by side: an operator's template that does not render refuses
  // to start here. The email is tried in every language's words, the operator's included; the
  // pages in the languages on offer.
  const everyLanguage = SHIPPED_LOCALES.map((locale) => translator(locale, look.catalogues[locale]))
  const texts = buildTexts(config, look.catalogues)
  const [emails, pages] = refusedTogether(
    () => linkMessages(look, { publicUrl: config.publicUrl, translators: everyLanguage }),
    () =>
      pageRenderer(
        look,
        texts.locales.map((locale) => texts.translator(locale)),
      ),
  )
  const mailer = overrides.mailer ?? (await createMailer(config, clock))
  const outboxBell = new OutboxBell()
  // The store queues each recorded event's webhooks in the event's own transaction, and rings
  // the bell once they have committed. A store passed in announces nothing unless it was opened
  // so (see openStore).
  const store =
    overrides.store ?? (await openStore(config, webhookAnnouncer(config.webhooks, outboxBell)))
  const limits = await Limits.open(config, clock, log, {
    redisPrefix: overrides.redisPrefix,
    shared: overrides.sharedCounters,
  }).catch(async (error: unknown) => {
    if (!overrides.store) await store.close()
    throw error
  })
  const metrics = new Metrics({
    store,
    sharedCountersUp: () => limits.sharedUp(),
    clock,
    jobKinds: JOB_KINDS,
  })
  return {
    config,
    store,
    sessions,
    keyring: new KeyRing(
      config.linkSecrets.map((s) => ({ kid: s.kid, secret: Buffer.from(s.secret, 'base64url') })),
    ),
    mailer,
    clock,
    apiKeys: new ApiKeys(config.apiKeys),
    outboxBell,
    limits,
    recipientLimiter: limits.recipients,
    codeGuesses: limits.codeGuesses,
    metrics,
    observer: metrics.observer,
    texts,
    emails,
    pages,
  }
}

/**
 * Wiring only: the logger, the dependencies, the HTTP layer on them, the outbox worker and the
 * housekeeping. Returns a ready Fastify instance; closing it closes what was opened here.
 */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const log = appLogger(config.logLevel, overrides.logStream)
  const deps = await buildDeps(config, overrides, log)
  const app = await createHttpApp(deps, { log, trustProxy: config.trustProxy }).catch(
    async (error: unknown) => {
      await deps.limits.close()
      if (!overrides.store) await deps.store.close()
      throw error
    },
  )
  const worker = new OutboxWorker(deps, outboxJobs(deps), app.log, overrides.outbox)
  app.decorate('outbox', worker)
  const housekeeping = buildHousekeeping(deps, app.log, overrides.housekeeping)
  app.decorate('housekeeping', housekeeping)
  // The schema is brought up to date at start rather than at the first request. A database that
  // does not answer does not stop the start: /readyz and the API answer 503 until it does, and
  // the store retries on each use.
  app.addHook('onReady', async () => {
    deps.store.migrate().catch((err: unknown) => {
      app.log.warn({ err }, 'the database does not answer yet; answering 503 until it does')
    })
  })
  if (overrides.outbox?.autoStart !== false) app.addHook('onReady', async () => worker.start())
  const tidy = overrides.housekeeping?.autoStart ?? overrides.outbox?.autoStart
  if (tidy !== false) app.addHook('onReady', async () => housekeeping.start())
  // Hooks run in reverse on close: the worker finishes its send before the store closes.
  // Nothing counts by then either: Fastify closes once the last request has been answered.
  if (!overrides.store) app.addHook('onClose', async () => deps.store.close())
  app.addHook('onClose', async () => deps.limits.close())
  app.addHook('onClose', async () => worker.stop())
  app.addHook('onClose', async () => housekeeping.stop())
  // A start that fails still closes what it opened (a test, a command, would hang on Redis).
  try {
    await app.ready()
  } catch (error) {
    await app.close()
    throw error
  }
  return app
}

/**
 * The periodic chores besides sending, hourly by the clock: forgetting unused users, stand-in
 * ids, sessions long over, audit events past AUDIT_RETENTION and old provider callback ids. Each instance does them; the
 * deletes are harmless twice.
 */
function buildHousekeeping(
  deps: RouteDeps,
  log: App['log'],
  options: AppOverrides['housekeeping'] = {},
): Periodic {
  const { everyMs = 3600_000, checkMs = 60_000, autoStart: _, ...prune } = options
  return new Periodic(
    async () => {
      // Independent chores: one failing does not keep the others from their hour.
      const chores = await Promise.allSettled([
        pruneUnused(deps, log, { ...DEFAULT_PRUNE_OPTIONS, ...prune }),
        pruneSessions(deps, log),
        pruneAuditEvents(deps, log),
        pruneProviderEvents(deps, log),
      ])
      for (const chore of chores) if (chore.status === 'rejected') throw chore.reason
    },
    deps.clock,
    (err) => log.error({ err }, 'housekeeping failed'),
    { everyMs, checkMs },
  )
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

/**
 * The configured store; `announcer`, when given, is told of every event it records. Only the
 * configured database's driver is loaded: a SQLite instance never loads `pg`, nor the other way.
 */
export async function openStore(config: Config, announcer?: EventAnnouncer): Promise<Store> {
  if (config.database.kind === 'sqlite') {
    const { openSqliteStore } = await import('./store/sqlite/index.js')
    return openSqliteStore(config.database.file, { announcer })
  }
  const { openPostgresStore } = await import('./store/postgres/index.js')
  return openPostgresStore(config.database.url, { poolSize: config.databasePoolSize, announcer })
}

/** The configured transport; only its mail library is loaded (none for the log transport). */
export async function createMailer(config: Config, clock: Clock): Promise<Mailer> {
  if (config.mail.transport === 'log') return new LogTransport()
  if (config.mail.transport === 'smtp') {
    const { SmtpTransport } = await import('./mail/smtp-transport.js')
    return new SmtpTransport({ url: config.mail.smtpUrl as string, from: config.mail.from })
  }
  const { ResendTransport } = await import('./mail/resend-transport.js')
  return new ResendTransport({
    apiKey: config.mail.resendApiKey as string,
    from: config.mail.from,
    baseUrl: config.mail.resendBaseUrl,
    clock,
  })
}
