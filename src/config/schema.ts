import Type, { type Static } from 'typebox'
import { TABLE as S } from './settings.js'

/**
 * The shape of the configuration, assembled from the settings' own schemas: it gives the Config
 * type. Each field is checked on its own, by its row (load.ts); a test holds every row's path to
 * the field it names here.
 */
export const ConfigSchema = Type.Object({
  production: S.NODE_ENV.schema,
  port: S.PORT.schema,
  host: S.HOST.schema,
  publicUrl: S.PUBLIC_URL.schema,
  database: S.DATABASE_URL.schema,
  /** Connections each instance may hold to PostgreSQL. */
  databasePoolSize: S.DATABASE_POOL_SIZE.schema,
  dataDir: S.DATA_DIR.schema,
  redisUrl: Type.Optional(S.REDIS_URL.schema),
  /** Starts every key latchkey writes in Redis, so deployments can share one Redis. */
  redisKeyPrefix: S.REDIS_KEY_PREFIX.schema,
  linkSecrets: S.LINK_SECRETS.schema,
  sessionKeys: S.SESSION_KEYS.schema,
  apiKeys: S.API_KEYS.schema,
  mail: Type.Object({
    transport: S.MAIL_TRANSPORT.schema,
    resendApiKey: Type.Optional(S.RESEND_API_KEY.schema),
    resendBaseUrl: Type.Optional(S.RESEND_BASE_URL.schema),
    /** Verifies Resend's delivery callbacks; without it, /v1/webhooks/resend is off. */
    resendWebhookSecret: Type.Optional(S.RESEND_WEBHOOK_SECRET.schema),
    smtpUrl: Type.Optional(S.SMTP_URL.schema),
    from: S.MAIL_FROM.schema,
    appName: S.APP_NAME.schema,
  }),
  linkTtl: S.LINK_TTL.schema,
  linkTtlMax: S.LINK_TTL_MAX.schema,
  accessTtlMax: S.ACCESS_TTL_MAX.schema,
  sessionTtl: S.SESSION_TTL.schema,
  refreshTtl: S.REFRESH_TTL.schema,
  sessionMaxAge: S.SESSION_MAX_AGE.schema,
  refreshReuseGrace: S.REFRESH_REUSE_GRACE.schema,
  sessionAudience: S.SESSION_AUDIENCE.schema,
  allowedRedirects: S.ALLOWED_REDIRECTS.schema,
  trustProxy: S.TRUST_PROXY.schema,
  rateLimits: Type.Object({
    /** Each client IP address, on the routes that take no API key. */
    ip: S.RATE_LIMIT_IP.schema,
    /** Each API key, on every route that takes one. */
    apiKey: S.RATE_LIMIT_API_KEY.schema,
    /** Each address latchkey would send a sign-in email to. */
    recipient: S.RATE_LIMIT_RECIPIENT.schema,
    /** Sign-in emails asked for through the hosted form, per client IP address. */
    formIp: S.RATE_LIMIT_FORM_IP.schema,
    /** Sign-in code attempts per inbox (every attempt, right or wrong). */
    code: S.RATE_LIMIT_CODE.schema,
  }),
  /** Whether the hosted form creates users; false signs in existing users only. */
  hostedSignup: S.HOSTED_SIGNUP.schema,
  /** Seconds audit events are kept, then pruned (the revocation feed's at least refreshTtl). */
  auditRetention: S.AUDIT_RETENTION.schema,
  /** Whether `/docs` (Swagger UI) is served. */
  docs: S.DOCS.schema,
  /** How long slow or idle clients may hold a connection, and how many connections at once. */
  server: Type.Object({
    /** Seconds to receive a whole request (headers and body). */
    requestTimeout: S.REQUEST_TIMEOUT.schema,
    /** Seconds to receive the request headers. */
    headersTimeout: S.HEADERS_TIMEOUT.schema,
    /** Seconds an idle keep-alive connection stays open. */
    keepAliveTimeout: S.KEEP_ALIVE_TIMEOUT.schema,
    /** Open connections at most; more are closed at once. */
    maxConnections: S.MAX_CONNECTIONS.schema,
  }),
  /** How the hosted pages hand a session to the application: a cookie, or a code to exchange. */
  handoff: S.HANDOFF.schema,
  /** The languages of pages and emails, and the one used when no other matches. */
  locales: S.LOCALES.schema,
  defaultLocale: S.DEFAULT_LOCALE.schema,
  /** Operator templates and strings, brand colour and logo (see mail/look.ts). */
  look: Type.Object({
    templatesDir: Type.Optional(S.TEMPLATES_DIR.schema),
    brandColor: Type.Optional(S.BRAND_COLOR.schema),
    logoFile: Type.Optional(S.LOGO_FILE.schema),
  }),
  /** Signed webhooks: where to, with which key, and for which event types. */
  webhooks: Type.Object({
    /** Receivers; none turns webhooks off. */
    urls: S.WEBHOOK_URLS.schema,
    /** The Standard Webhooks key (`whsec_…`); set whenever `urls` is not empty. */
    secret: Type.Optional(S.WEBHOOK_SECRET.schema),
    /** Event types (`session.ended`) and prefixes (`user.*`) that are sent. */
    events: S.WEBHOOK_EVENTS.schema,
  }),
  logLevel: S.LOG_LEVEL.schema,
})

export type Config = Static<typeof ConfigSchema>
