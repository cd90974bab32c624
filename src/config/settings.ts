import { join } from 'node:path'
import Type from 'typebox'
import Value from 'typebox/value'
import { KEY_SETTINGS } from './key-settings.js'
import { LOCALE_SETTINGS } from './locale-settings.js'
import { LOOK_SETTINGS } from './look-settings.js'
import type { Expected } from './messages.js'
import * as parse from './parsers.js'
import { RATE_SETTINGS } from './rate-settings.js'
import { publicUrl } from './refine.js'
import { row } from './setting.js'
import { WEBHOOK_SETTINGS } from './webhook-settings.js'

/** A whole number from `min` to `max`; `is` says what it counts. */
const whole = (
  path: string,
  fallback: string,
  [min, max]: [number, number],
  is: string,
  doc: string,
) =>
  row({
    path,
    schema: Type.Integer({ minimum: min, maximum: max }),
    parse: parse.integer,
    default: fallback,
    expected: { is, fix: `set a whole number from ${min} to ${max}` },
    doc,
  })

/** A duration in whole seconds, `max` at most. */
const seconds = (path: string, fallback: string, doc: string, max = 0xffffffff) =>
  whole(path, fallback, [1, max], 'a number of seconds', doc)

/** One of a few words. */
const oneOf = <const V extends readonly string[]>(
  path: string,
  values: V,
  fallback: V[number],
  expected: Expected,
  doc: string,
) =>
  row({
    path,
    schema: Type.Union(values.map((value: V[number]) => Type.Literal(value))),
    default: fallback,
    expected,
    doc,
  })

const Origin = Type.String({ pattern: '^https?://[^/?#]+$' })

/**
 * Every setting latchkey reads, one row each, in the order the README documents them. The rows
 * drive everything about a setting: reading it (each may also come from NAME_FILE), its default,
 * its check and the words of its problems, the Config type (schema.ts) and the README's table.
 */
export const TABLE = {
  NODE_ENV: row({
    path: 'production',
    schema: Type.Boolean(),
    parse: (value) => value === 'production',
    default: 'development',
    doc: '`production` refuses to start without the settings production needs (see below)',
  }),
  PORT: whole('port', '3000', [0, 65535], 'a port number', 'port to listen on'),
  HOST: row({
    path: 'host',
    schema: Type.String({ minLength: 1 }),
    default: '127.0.0.1',
    expected: {
      is: 'an address to listen on',
      fix: 'set an IP address or host name, like 0.0.0.0',
    },
    doc: 'address to listen on',
  }),
  PUBLIC_URL: row({
    path: 'publicUrl',
    schema: Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' }),
    parse: parse.normaliseUrl,
    derive: (config) => parse.normaliseUrl(`http://localhost:${config.port}`),
    refine: publicUrl,
    expected: {
      is: 'an absolute http(s) URL',
      fix: 'set the address people reach latchkey at, like https://login.example.com, without query or fragment',
    },
    shown: '`http://localhost:PORT`',
    doc: 'base of every link; never taken from the Host header',
  }),
  DATABASE_URL: row({
    path: 'database',
    schema: Type.Union([
      Type.Object({ kind: Type.Literal('sqlite'), file: Type.String({ minLength: 1 }) }),
      Type.Object({ kind: Type.Literal('postgres'), url: Type.String({ minLength: 1 }) }),
    ]),
    parse: parse.databaseUrl,
    derive: (config) => ({ kind: 'sqlite', file: join(String(config.dataDir), 'latchkey.db') }),
    secret: true,
    expected: { is: 'a database', fix: 'set a SQLite file path or a postgres:// URL' },
    shown: 'SQLite file `DATA_DIR/latchkey.db`',
    doc: 'a file path (or `sqlite:path`), or `postgres://…` for PostgreSQL',
  }),
  DATABASE_POOL_SIZE: whole(
    'databasePoolSize',
    '10',
    [1, 1000],
    'a number of connections',
    'connections each instance may hold to PostgreSQL',
  ),
  DATA_DIR: row({
    path: 'dataDir',
    schema: Type.String({ minLength: 1 }),
    default: './data',
    expected: { is: 'a directory', fix: 'set the path of a directory latchkey may write to' },
    doc: 'embedded database and development secrets',
  }),
  ...KEY_SETTINGS,
  MAIL_TRANSPORT: oneOf(
    'mail/transport',
    ['log', 'resend', 'smtp'],
    'log',
    { is: 'a mail transport', fix: 'set resend or smtp, or log in development' },
    '`resend`, `smtp`, or `log` (refused in production): print messages, links included',
  ),
  RESEND_API_KEY: row({
    path: 'mail/resendApiKey',
    schema: Type.String({ minLength: 1 }),
    optional: true,
    secret: true,
    expected: { is: 'a Resend API key', fix: 'set the key Resend gave you (re_…)' },
    doc: 'required with `MAIL_TRANSPORT=resend`',
  }),
  RESEND_BASE_URL: row({
    path: 'mail/resendBaseUrl',
    schema: Type.String({ pattern: '^https?://' }),
    optional: true,
    expected: {
      is: 'an http(s) URL',
      fix: 'leave it unset to use Resend, or set the base URL of a Resend-compatible API',
    },
    shown: '`https://api.resend.com`',
    doc: 'another Resend-compatible endpoint (tests point it at a local fake)',
  }),
  RESEND_WEBHOOK_SECRET: row({
    path: 'mail/resendWebhookSecret',
    schema: Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{16,}={0,2}$' }),
    optional: true,
    secret: true,
    expected: {
      is: 'a Resend signing secret',
      fix: "copy the webhook's signing secret (whsec_…) from Resend's webhook page",
    },
    doc: 'signing secret of the Resend webhook for [delivery feedback](#delivery-feedback); unset: off',
  }),
  SMTP_URL: row({
    path: 'mail/smtpUrl',
    schema: Type.String({ minLength: 1 }),
    parse: parse.smtpUrl,
    optional: true,
    // It usually holds the relay's password.
    secret: true,
    expected: {
      is: 'an SMTP URL',
      fix: 'set smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465, the user and password percent-encoded',
    },
    doc: 'required with `MAIL_TRANSPORT=smtp`: `smtp://user:pass@host:587` or `smtps://…:465`',
  }),
  MAIL_FROM: row({
    path: 'mail/from',
    schema: Type.String({ minLength: 3 }),
    default: 'latchkey <login@localhost>',
    expected: {
      is: 'a sender',
      fix: 'set an address on a domain your mail provider verified, like Acme <login@acme.example>',
    },
    doc: 'sender of the emails (an address your provider or relay lets latchkey send as)',
  }),
  APP_NAME: row({
    path: 'mail/appName',
    schema: Type.String({ minLength: 1, maxLength: 100 }),
    default: 'latchkey',
    expected: { is: 'a name for emails', fix: 'use 1 to 100 characters' },
    doc: 'the name in emails',
  }),
  LINK_TTL: seconds(
    'linkTtl',
    '900',
    'seconds a login link lasts when the request gives no `ttl_seconds`',
  ),
  LINK_TTL_MAX: seconds('linkTtlMax', '3600', 'seconds; the longest `ttl_seconds` of a login link'),
  ACCESS_TTL_MAX: seconds(
    'accessTtlMax',
    '604800',
    'seconds; the longest `ttl_seconds` of an access link',
  ),
  SESSION_TTL: seconds('sessionTtl', '900', 'seconds a session JWT lasts'),
  REFRESH_TTL: seconds('refreshTtl', '2592000', 'seconds a refresh token lasts'),
  SESSION_MAX_AGE: seconds(
    'sessionMaxAge',
    '7776000',
    'seconds a session lasts at most, however often it is refreshed',
  ),
  REFRESH_REUSE_GRACE: whole(
    'refreshReuseGrace',
    '10',
    [0, 300],
    'a number of seconds',
    'seconds after a rotation in which the previous refresh token gets the current pair again',
  ),
  SESSION_AUDIENCE: row({
    path: 'sessionAudience',
    schema: Type.String({ minLength: 1 }),
    derive: (config) => config.publicUrl,
    expected: { is: 'an audience', fix: 'set the aud your backends expect, or leave it unset' },
    shown: '`PUBLIC_URL`',
    doc: '`aud` of session JWTs',
  }),
  ALLOWED_REDIRECTS: row({
    path: 'allowedRedirects',
    schema: Type.Array(Origin),
    parse: parse.list((item) => Value.Check(Origin, item) && parse.originOf(item) === item),
    unset: [],
    expected: {
      is: 'an exact origin',
      fix: 'list origins like https://app.example, comma-separated, without path or trailing slash',
    },
    doc: 'exact origins (`https://app.example`) allowed besides relative paths',
  }),
  AUDIT_RETENTION: row({
    path: 'auditRetention',
    schema: Type.Integer({ minimum: 3600, maximum: 10 * 365 * 86_400 }),
    parse: parse.duration,
    default: '90d',
    expected: {
      is: 'a duration',
      fix: 'set a duration like 90d, 12h or 3600 (seconds), from 1h to 3650d',
    },
    doc: 'how long audit events are kept (the revocation feed at least `REFRESH_TTL`)',
  }),
  TRUST_PROXY: row({
    path: 'trustProxy',
    /**
     * Which proxies' X-Forwarded-* to believe: none (false), the nearest N hops (a number), or
     * the proxies at these addresses or CIDR ranges (Fastify's trustProxy takes each form).
     */
    schema: Type.Union([
      Type.Literal(false),
      Type.Integer({ minimum: 1, maximum: 10 }),
      Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    ]),
    parse: parse.trustProxy,
    default: 'false',
    expected: {
      is: 'a proxy setting',
      fix: 'set true, false, a number of hops, or proxy IP addresses and CIDR ranges',
    },
    doc: 'behind proxies: `true` (the one in front), a hop count, or their addresses/CIDRs',
  }),
  REDIS_URL: row({
    path: 'redisUrl',
    schema: Type.String({ pattern: '^rediss?://' }),
    optional: true,
    secret: true,
    expected: { is: 'a Redis URL', fix: 'set redis://host:6379, or rediss://… for TLS' },
    doc: '`redis://…` or `rediss://…`: rate-limit counters shared by every instance',
  }),
  REDIS_KEY_PREFIX: row({
    path: 'redisKeyPrefix',
    schema: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }),
    default: 'latchkey:',
    expected: {
      is: 'a key prefix',
      fix: 'use 1 to 64 letters, digits and _ . : -, like latchkey:',
    },
    doc: 'starts every key latchkey writes in Redis (deployments sharing one Redis)',
  }),
  ...RATE_SETTINGS,
  HANDOFF: oneOf(
    'handoff',
    ['cookie', 'code'],
    'cookie',
    { is: 'a hand-over', fix: 'set cookie or code' },
    'how the hosted pages hand over the session: `cookie` or `code`',
  ),
  DOCS: row({
    path: 'docs',
    schema: Type.Boolean(),
    parse: parse.boolean,
    derive: (config) => !config.production,
    expected: { is: 'on or off', fix: 'set on to serve /docs, or off' },
    shown: '`on` in development, `off` in production',
    doc: 'serve Swagger UI at `/docs` and the OpenAPI document at `/docs/json`',
  }),
  REQUEST_TIMEOUT: seconds(
    'server/requestTimeout',
    '30',
    'seconds to receive a whole request; also how long a connection may sit silent',
    3600,
  ),
  HEADERS_TIMEOUT: seconds(
    'server/headersTimeout',
    '10',
    'seconds to receive the request headers (at most `REQUEST_TIMEOUT`)',
    3600,
  ),
  KEEP_ALIVE_TIMEOUT: seconds(
    'server/keepAliveTimeout',
    '5',
    'seconds an idle keep-alive connection stays open',
    3600,
  ),
  MAX_CONNECTIONS: whole(
    'server/maxConnections',
    '1000',
    [1, 1_000_000],
    'a number of connections',
    'open connections at most; more are closed as they arrive',
  ),
  HOSTED_SIGNUP: row({
    path: 'hostedSignup',
    schema: Type.Boolean(),
    parse: parse.boolean,
    default: 'true',
    expected: {
      is: 'true or false',
      fix: 'set true (the form creates users) or false (it signs in existing users only)',
    },
    doc: '`false`: the hosted form signs in existing users only',
  }),
  ...LOCALE_SETTINGS,
  ...LOOK_SETTINGS,
  ...WEBHOOK_SETTINGS,
  LOG_LEVEL: oneOf(
    'logLevel',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    'info',
    { is: 'a log level', fix: 'set fatal, error, warn, info, debug, trace or silent' },
    '`fatal` … `trace`, or `silent`',
  ),
}

/** The name of every setting latchkey reads; each may also come from NAME_FILE. */
export type SettingName = keyof typeof TABLE

export const SETTINGS = Object.keys(TABLE) as SettingName[]
