import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import Type, { type Static } from 'typebox'
import Value from 'typebox/value'
import { ConfigError } from './errors.js'

/**
 * The whole configuration, as one TypeBox schema: it gives the Config type and the runtime check.
 * Environment strings are first shaped into this object (splitting lists, parsing numbers), then
 * the schema and a few cross-field rules are checked, and every problem is reported at once.
 */
const Seconds = Type.Integer({ minimum: 1, maximum: 0xffffffff })

export const LinkSecretSchema = Type.Object({
  kid: Type.Integer({ minimum: 0, maximum: 255 }),
  // 43 base64url characters carry 32 bytes: anything shorter is a weak secret.
  secret: Type.String({ pattern: '^[A-Za-z0-9_-]{43,}$' }),
})

export const SessionKeySchema = Type.Object(
  {
    kid: Type.String({ minLength: 1 }),
    kty: Type.Union([Type.Literal('OKP'), Type.Literal('EC')]),
    d: Type.String({ minLength: 1 }),
  },
  { additionalProperties: true },
)

export const ApiKeySchema = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  role: Type.Union([Type.Literal('service'), Type.Literal('admin')]),
  hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
})

/** At most `max` requests in each fixed window of `windowSeconds`; null turns a limit off. */
export const RateSchema = Type.Object({
  max: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
  windowSeconds: Type.Integer({ minimum: 1, maximum: 24 * 3600 }),
})

const OptionalRate = Type.Union([RateSchema, Type.Null()])

export const ConfigSchema = Type.Object({
  production: Type.Boolean(),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String({ minLength: 1 }),
  publicUrl: Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' }),
  database: Type.Union([
    Type.Object({ kind: Type.Literal('sqlite'), file: Type.String({ minLength: 1 }) }),
    Type.Object({ kind: Type.Literal('postgres'), url: Type.String({ minLength: 1 }) }),
  ]),
  /** Connections each instance may hold to PostgreSQL. */
  databasePoolSize: Type.Integer({ minimum: 1, maximum: 1000 }),
  dataDir: Type.String({ minLength: 1 }),
  redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  /** Starts every key latchkey writes in Redis, so deployments can share one Redis. */
  redisKeyPrefix: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }),
  linkSecrets: Type.Array(LinkSecretSchema, { minItems: 1 }),
  sessionKeys: Type.Array(SessionKeySchema, { minItems: 1 }),
  apiKeys: Type.Array(ApiKeySchema, { minItems: 1 }),
  mail: Type.Object({
    transport: Type.Union([Type.Literal('log'), Type.Literal('resend')]),
    resendApiKey: Type.Optional(Type.String({ minLength: 1 })),
    resendBaseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    from: Type.String({ minLength: 3 }),
    appName: Type.String({ minLength: 1, maxLength: 100 }),
  }),
  linkTtl: Seconds,
  linkTtlMax: Seconds,
  accessTtlMax: Seconds,
  sessionTtl: Seconds,
  refreshTtl: Seconds,
  sessionAudience: Type.String({ minLength: 1 }),
  allowedRedirects: Type.Array(Type.String({ pattern: '^https?://[^/?#]+$' })),
  /**
   * Which proxies' X-Forwarded-* to believe: none (false), the nearest N hops (a number), or
   * the proxies at these addresses or CIDR ranges (Fastify's trustProxy takes each form).
   */
  trustProxy: Type.Union([
    Type.Literal(false),
    Type.Integer({ minimum: 1, maximum: 10 }),
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  ]),
  rateLimits: Type.Object({
    /** Each client IP address, on the routes that take no API key. */
    ip: OptionalRate,
    /** Each API key, on every route that takes one. */
    apiKey: OptionalRate,
    /** Each address latchkey would send a sign-in email to. */
    recipient: OptionalRate,
    /** Sign-in emails asked for through the hosted form, per client IP address. */
    formIp: OptionalRate,
  }),
  /** Whether the hosted form creates users; false signs in existing users only. */
  hostedSignup: Type.Boolean(),
  /** Whether `/docs` (Swagger UI) is served. */
  docs: Type.Boolean(),
  /** How long slow or idle clients may hold a connection, and how many connections at once. */
  server: Type.Object({
    /** Seconds to receive a whole request (headers and body). */
    requestTimeout: Type.Integer({ minimum: 1, maximum: 3600 }),
    /** Seconds to receive the request headers. */
    headersTimeout: Type.Integer({ minimum: 1, maximum: 3600 }),
    /** Seconds an idle keep-alive connection stays open. */
    keepAliveTimeout: Type.Integer({ minimum: 1, maximum: 3600 }),
    /** Open connections at most; more are closed at once. */
    maxConnections: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  }),
  /** How the hosted pages hand a session to the application: a cookie, or a code to exchange. */
  handoff: Type.Union([Type.Literal('cookie'), Type.Literal('code')]),
  logLevel: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  ),
})

export type Config = Static<typeof ConfigSchema>
export type LinkSecretConfig = Static<typeof LinkSecretSchema>
export type ApiKeyConfig = Static<typeof ApiKeySchema>
export type Rate = Static<typeof RateSchema>

export type Env = Readonly<Record<string, string | undefined>>

/** Which environment variable each top-level field comes from, for messages people can act on. */
const SOURCE: Record<string, string> = {
  production: 'NODE_ENV',
  port: 'PORT',
  host: 'HOST',
  publicUrl: 'PUBLIC_URL',
  database: 'DATABASE_URL',
  databasePoolSize: 'DATABASE_POOL_SIZE',
  dataDir: 'DATA_DIR',
  redisUrl: 'REDIS_URL',
  redisKeyPrefix: 'REDIS_KEY_PREFIX',
  linkSecrets: 'LINK_SECRETS',
  sessionKeys: 'SESSION_KEYS',
  apiKeys: 'API_KEYS',
  'mail/transport': 'MAIL_TRANSPORT',
  'mail/resendApiKey': 'RESEND_API_KEY',
  'mail/resendBaseUrl': 'RESEND_BASE_URL',
  'mail/from': 'MAIL_FROM',
  'mail/appName': 'APP_NAME',
  linkTtl: 'LINK_TTL',
  linkTtlMax: 'LINK_TTL_MAX',
  accessTtlMax: 'ACCESS_TTL_MAX',
  sessionTtl: 'SESSION_TTL',
  refreshTtl: 'REFRESH_TTL',
  sessionAudience: 'SESSION_AUDIENCE',
  allowedRedirects: 'ALLOWED_REDIRECTS',
  trustProxy: 'TRUST_PROXY',
  'rateLimits/ip': 'RATE_LIMIT_IP',
  'rateLimits/apiKey': 'RATE_LIMIT_API_KEY',
  'rateLimits/recipient': 'RATE_LIMIT_RECIPIENT',
  'rateLimits/formIp': 'RATE_LIMIT_FORM_IP',
  hostedSignup: 'HOSTED_SIGNUP',
  docs: 'DOCS',
  'server/requestTimeout': 'REQUEST_TIMEOUT',
  'server/headersTimeout': 'HEADERS_TIMEOUT',
  'server/keepAliveTimeout': 'KEEP_ALIVE_TIMEOUT',
  'server/maxConnections': 'MAX_CONNECTIONS',
  handoff: 'HANDOFF',
  logLevel: 'LOG_LEVEL',
}

/** Every setting latchkey reads; each may also come from NAME_FILE. */
export const SETTINGS = [...new Set(Object.values(SOURCE))]

/** Secrets whose absence in production is an error rather than something to generate. */
export const GENERATED_IN_DEVELOPMENT = ['LINK_SECRETS', 'SESSION_KEYS', 'API_KEYS'] as const

/**
 * Reads NAME, or the contents of the file NAME_FILE names (trailing newline removed), so secrets
 * can come from mounted files instead of the environment.
 */
export function resolveEnv(env: Env, problems: string[]): Env {
  const out: Record<string, string | undefined> = { ...env }
  for (const base of SETTINGS) {
    const name = `${base}_FILE`
    const path = env[name]
    if (path === undefined || path === '') continue
    if (env[base] !== undefined && env[base] !== '') {
      problems.push(`${base} and ${name} are both set; set only one`)
      continue
    }
    try {
      out[base] = readFileSync(path, 'utf8').replace(/\r?\n$/, '')
    } catch {
      problems.push(`${name}: cannot read the file it names`)
    }
  }
  return out
}

/** Builds and checks the configuration; throws ConfigError naming every problem. */
export function loadConfig(rawEnv: Env): Config {
  const problems: string[] = []
  const env = resolveEnv(rawEnv, problems)
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === '' ? undefined : value
  }
  const production = get('NODE_ENV') === 'production'
  const port = integer(get('PORT') ?? '3000')
  const dataDir = get('DATA_DIR') ?? './data'
  const publicUrl = normaliseUrl(get('PUBLIC_URL') ?? `http://localhost:${port}`)

  const candidate = {
    production,
    port,
    host: get('HOST') ?? '127.0.0.1',
    publicUrl,
    database: parseDatabaseUrl(get('DATABASE_URL'), dataDir),
    databasePoolSize: integer(get('DATABASE_POOL_SIZE') ?? '10'),
    dataDir,
    redisUrl: get('REDIS_URL'),
    redisKeyPrefix: get('REDIS_KEY_PREFIX') ?? 'latchkey:',
    linkSecrets: parseLinkSecrets(get('LINK_SECRETS'), problems),
    sessionKeys: parseJsonArray('SESSION_KEYS', get('SESSION_KEYS'), problems),
    apiKeys: parseApiKeys(get('API_KEYS'), problems),
    mail: {
      transport: get('MAIL_TRANSPORT') ?? 'log',
      resendApiKey: get('RESEND_API_KEY'),
      resendBaseUrl: get('RESEND_BASE_URL'),
      from: get('MAIL_FROM') ?? 'latchkey <login@localhost>',
      appName: get('APP_NAME') ?? 'latchkey',
    },
    linkTtl: integer(get('LINK_TTL') ?? '900'),
    linkTtlMax: integer(get('LINK_TTL_MAX') ?? '3600'),
    accessTtlMax: integer(get('ACCESS_TTL_MAX') ?? String(7 * 24 * 3600)),
    sessionTtl: integer(get('SESSION_TTL') ?? '900'),
    refreshTtl: integer(get('REFRESH_TTL') ?? String(30 * 24 * 3600)),
    sessionAudience: get('SESSION_AUDIENCE') ?? publicUrl,
    allowedRedirects: (get('ALLOWED_REDIRECTS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    trustProxy: parseTrustProxy(get('TRUST_PROXY') ?? 'false', problems),
    rateLimits: {
      ip: parseRate('RATE_LIMIT_IP', get('RATE_LIMIT_IP') ?? DEFAULT_RATES.ip, problems),
      apiKey: parseRate(
        'RATE_LIMIT_API_KEY',
        get('RATE_LIMIT_API_KEY') ?? DEFAULT_RATES.apiKey,
        problems,
      ),
      recipient: parseRate(
        'RATE_LIMIT_RECIPIENT',
        get('RATE_LIMIT_RECIPIENT') ?? DEFAULT_RATES.recipient,
        problems,
      ),
      formIp: parseRate(
        'RATE_LIMIT_FORM_IP',
        get('RATE_LIMIT_FORM_IP') ?? DEFAULT_RATES.formIp,
        problems,
      ),
    },
    hostedSignup: boolean(get('HOSTED_SIGNUP') ?? 'true'),
    docs: boolean(get('DOCS') ?? (production ? 'off' : 'on')),
    server: {
      requestTimeout: integer(get('REQUEST_TIMEOUT') ?? '30'),
      headersTimeout: integer(get('HEADERS_TIMEOUT') ?? '10'),
      keepAliveTimeout: integer(get('KEEP_ALIVE_TIMEOUT') ?? '5'),
      maxConnections: integer(get('MAX_CONNECTIONS') ?? '1000'),
    },
    handoff: get('HANDOFF') ?? 'cookie',
    logLevel: get('LOG_LEVEL') ?? 'info',
  }

  for (const error of Value.Errors(ConfigSchema, candidate)) {
    // A union reports once per branch; the branch messages add nothing for a person.
    if (error.keyword === 'const' && error.schemaPath.includes('/anyOf/')) continue
    if (error.keyword === 'minItems') {
      // Production names an unset secret itself, below; say it once.
      const name = sourceOf(error.instancePath)
      if (!(production && !env[name]?.trim())) problems.push(`${name}: missing`)
      continue
    }
    problems.push(`${sourceOf(error.instancePath)}: ${error.message}`)
  }
  if (problems.length === 0) problems.push(...crossChecks(candidate as Config))
  if (production) problems.push(...productionChecks(env))
  if (problems.length > 0) throw new ConfigError([...new Set(problems)])
  return candidate as Config
}

/** What production demands. Checked whatever else is wrong, so every problem shows at once. */
function productionChecks(env: Env): string[] {
  const problems: string[] = []
  const set = (name: string) => Boolean(env[name]?.trim())
  for (const name of GENERATED_IN_DEVELOPMENT) {
    if (!set(name)) problems.push(`${name}: required in production`)
  }
  if (!set('MAIL_TRANSPORT')) problems.push('MAIL_TRANSPORT: required in production')
  if (env.MAIL_TRANSPORT?.trim() === 'resend' && !set('MAIL_FROM')) {
    problems.push('MAIL_FROM: required in production')
  }
  if (!env.PUBLIC_URL?.trim().startsWith('https://')) {
    problems.push('PUBLIC_URL: must be an https:// URL in production')
  }
  return problems
}

/** Rules that span fields; run once the shape is right. */
function crossChecks(config: Config): string[] {
  const problems: string[] = []
  if (config.linkTtl > config.linkTtlMax) problems.push('LINK_TTL: must not exceed LINK_TTL_MAX')
  if (!isPublicUrl(config.publicUrl)) {
    problems.push('PUBLIC_URL: must be an absolute http(s) URL without query or fragment')
  }
  for (const origin of config.allowedRedirects) {
    if (originOf(origin) !== origin) {
      problems.push(
        `ALLOWED_REDIRECTS: "${origin}" is not an exact origin like https://app.example`,
      )
    }
  }
  const kids = config.linkSecrets.map((s) => s.kid)
  if (new Set(kids).size !== kids.length) problems.push('LINK_SECRETS: kids must be distinct')
  // Compared as bytes, in their one canonical spelling: base64url's last character carries
  // spare bits, so two spellings could otherwise hide one secret.
  for (const { kid, secret } of config.linkSecrets) {
    if (!isCanonicalBase64url(secret)) {
      problems.push(`LINK_SECRETS: the secret of kid ${kid} is not canonical base64url`)
    }
  }
  const secrets = config.linkSecrets.map((s) => s.secret)
  if (new Set(secrets).size !== secrets.length) {
    problems.push('LINK_SECRETS: each entry needs its own secret')
  }
  // The HMAC secrets and the JWT signing keys must be independent: one leaked value must never
  // both forge links and sign sessions.
  const sessionSecrets = new Set(
    config.sessionKeys.map((k) => Buffer.from(k.d, 'base64url').toString('base64url')),
  )
  if (secrets.some((s) => sessionSecrets.has(s))) {
    problems.push('LINK_SECRETS and SESSION_KEYS: must not share key material')
  }
  const sessionKids = config.sessionKeys.map((k) => k.kid)
  if (new Set(sessionKids).size !== sessionKids.length) {
    problems.push('SESSION_KEYS: kids must be distinct')
  }
  const apiKeyNames = config.apiKeys.map((k) => k.name)
  if (new Set(apiKeyNames).size !== apiKeyNames.length) {
    problems.push('API_KEYS: names must be distinct')
  }
  if (config.mail.transport === 'resend' && !config.mail.resendApiKey) {
    problems.push('RESEND_API_KEY: required when MAIL_TRANSPORT is resend')
  }
  return problems
}

function originOf(value: string): string | undefined {
  try {
    return new URL(value).origin
  } catch {
    return undefined
  }
}

/** Lower-cased scheme and host, no trailing slash; the input unchanged when it is no such URL. */
function normaliseUrl(value: string): string {
  try {
    const url = new URL(value)
    if (url.search || url.hash || url.username || url.password) return value
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
  } catch {
    return value
  }
}

function isPublicUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.username === '' &&
      url.password === '' &&
      url.search === '' &&
      url.hash === '' &&
      normaliseUrl(value) === value
    )
  } catch {
    return false
  }
}

function isCanonicalBase64url(value: string): boolean {
  return Buffer.from(value, 'base64url').toString('base64url') === value
}

function sourceOf(instancePath: string): string {
  const parts = instancePath.split('/').filter(Boolean)
  return (
    SOURCE[`${parts[0]}/${parts[1]}`] ?? SOURCE[parts[0] ?? ''] ?? (instancePath || 'configuration')
  )
}

function integer(value: string): number {
  return /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN
}

function boolean(value: string): boolean | string {
  if (/^(true|1|yes|on)$/i.test(value)) return true
  if (/^(false|0|no|off)$/i.test(value)) return false
  return value
}

function parseDatabaseUrl(value: string | undefined, dataDir: string): Config['database'] {
  if (value === undefined) return { kind: 'sqlite', file: join(dataDir, 'latchkey.db') }
  if (/^postgres(ql)?:\/\//.test(value)) return { kind: 'postgres', url: value }
  return { kind: 'sqlite', file: value.replace(/^(sqlite|file):(\/\/)?/, '') }
}

/**
 * The default limits, each a judgement between abuse and the people it must never stop:
 * - ip: a sign-in from one browser takes about six requests (form, stylesheet, post, confirm
 *   page, confirm post). 60 a minute lets an office behind one NAT address sign in several
 *   people a minute, and holds a script on one address to one request a second.
 * - apiKey: a safety net against a runaway or stolen backend key, not a quota: no backend may
 *   reach it in normal use, however busy. A backend calls on behalf of all its users (a link
 *   and a verify per sign-in, a refresh per session every SESSION_TTL, and for some an
 *   introspection per request of their own), so its rate follows its traffic, not a person's.
 *   One instance serves at most some thousands of these a second (each signs or checks a JWT;
 *   see `npm run bench`), so 6,000,000 a minute (100,000 a second, in a window long enough to
 *   absorb any burst) is out of reach of one instance at full load: a busy backend is slowed by
 *   capacity, never refused by this limit. What it still stops is one key driving a fleet of
 *   instances (which count together through Redis) far past any normal load for minutes on
 *   end. A deployment that wants a real ceiling per backend sets its own.
 * - recipient: a person who does not see the email presses "send" again, perhaps twice more;
 *   5 emails per address in 15 minutes allows that, and holds anyone bombing an inbox through
 *   our form or a careless backend to 20 emails an hour.
 */
export const DEFAULT_RATES = {
  ip: '60/1m',
  apiKey: '6000000/1m',
  recipient: '5/15m',
  formIp: '10/15m',
} as const

const WINDOW_UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 }

/** `count/window` (`60/1m`, `5/15m`; the window in s, m or h, at most 24h), or `off`. */
function parseRate(name: string, value: string, problems: string[]): Rate | null {
  if (value.toLowerCase() === 'off') return null
  const match = /^(\d{1,10})\/(\d{1,5})([smh])$/.exec(value)
  if (!match) {
    problems.push(`${name}: "${value}" is not count/window (like 60/1m; s, m or h) or off`)
    return null
  }
  const max = Number(match[1])
  const windowSeconds = Number(match[2]) * (WINDOW_UNIT_SECONDS[match[3] as string] as number)
  // Reported here, in words, and then left out: the schema would only say it again.
  if (max < 1 || max > 1_000_000_000) {
    problems.push(`${name}: the count must be 1 to 1000000000 (off turns the limit off)`)
    return null
  }
  if (windowSeconds < 1 || windowSeconds > 24 * 3600) {
    problems.push(`${name}: the window must be 1s to 24h`)
    return null
  }
  return { max, windowSeconds }
}

/**
 * `false`; `true` (the one proxy in front: the same as 1); a number of proxy hops; or the
 * proxies' addresses and CIDR ranges, comma-separated. Never "trust every hop": the left-most
 * X-Forwarded-For entry is whatever the client sent, and a proxy that appends would let every
 * request choose its own address (and so its own rate-limit allowance).
 */
function parseTrustProxy(value: string, problems: string[]): Config['trustProxy'] {
  const flag = boolean(value)
  if (flag === false) return false
  if (flag === true && !/^\d+$/.test(value)) return 1
  if (/^\d{1,2}$/.test(value)) {
    const hops = Number(value)
    return hops === 0 ? false : hops
  }
  const entries = value.split(',').map((entry) => entry.trim())
  for (const entry of entries) {
    if (!isAddressOrRange(entry)) {
      problems.push(
        `TRUST_PROXY: "${entry}" is not true, false, a number of hops, or an IP address or CIDR range`,
      )
      return false
    }
  }
  return entries
}

function isAddressOrRange(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (bits === undefined) return true
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}

/** `kid:base64url-secret` entries, comma-separated; the first signs. */
function parseLinkSecrets(value: string | undefined, problems: string[]): unknown[] {
  if (value === undefined) return []
  return value.split(',').map((entry, i) => {
    const [kid, secret, ...rest] = entry.trim().split(':')
    if (secret === undefined || rest.length > 0) {
      problems.push(`LINK_SECRETS: entry ${i + 1} is not kid:base64url-secret`)
    }
    return { kid: integer(kid ?? ''), secret: secret ?? '' }
  })
}

/** `name:role:sha256hex` entries, comma-separated. */
function parseApiKeys(value: string | undefined, problems: string[]): unknown[] {
  if (value === undefined) return []
  return value.split(',').map((entry, i) => {
    const [name, role, hash, ...rest] = entry.trim().split(':')
    if (hash === undefined || rest.length > 0) {
      problems.push(`API_KEYS: entry ${i + 1} is not name:role:sha256hex`)
    }
    return { name, role, hash: hash?.toLowerCase() }
  })
}

function parseJsonArray(name: string, value: string | undefined, problems: string[]): unknown[] {
  if (value === undefined) return []
  try {
    const parsed: unknown = JSON.parse(value)
    if (Array.isArray(parsed)) return parsed
  } catch {
    // reported below
  }
  problems.push(`${name}: must be a JSON array of private JWKs`)
  return []
}
