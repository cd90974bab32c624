import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import Type, { type Static, type TSchema } from 'typebox'
import Value from 'typebox/value'
import { ConfigError } from './errors.js'
import { weakSecretReason } from './secret-strength.js'

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

/**
 * What each setting must be, in words, and how to put it right. A value the schema refuses is
 * reported with these words, never the validator's own ("must match pattern …"): the person
 * reading them set an environment variable, not a JSON document.
 */
const EXPECTED: Record<string, { is: string; fix: string }> = {
  PORT: { is: 'a port number', fix: 'set a whole number from 0 to 65535' },
  HOST: { is: 'an address to listen on', fix: 'set an IP address or host name, like 0.0.0.0' },
  PUBLIC_URL: {
    is: 'an absolute http(s) URL',
    fix: 'set the address people reach latchkey at, like https://login.example.com, without query or fragment',
  },
  DATABASE_URL: { is: 'a database', fix: 'set a SQLite file path or a postgres:// URL' },
  DATABASE_POOL_SIZE: {
    is: 'a number of connections',
    fix: 'set a whole number from 1 to 1000',
  },
  DATA_DIR: { is: 'a directory', fix: 'set the path of a directory latchkey may write to' },
  REDIS_URL: { is: 'a Redis URL', fix: 'set redis://host:6379, or rediss://… for TLS' },
  REDIS_KEY_PREFIX: {
    is: 'a key prefix',
    fix: 'use 1 to 64 letters, digits and _ . : -, like latchkey:',
  },
  MAIL_TRANSPORT: { is: 'a mail transport', fix: 'set resend, or log in development' },
  RESEND_API_KEY: { is: 'a Resend API key', fix: 'set the key Resend gave you (re_…)' },
  RESEND_BASE_URL: {
    is: 'an http(s) URL',
    fix: 'leave it unset to use Resend, or set the base URL of a Resend-compatible API',
  },
  MAIL_FROM: {
    is: 'a sender',
    fix: 'set an address on a domain your mail provider verified, like Acme <login@acme.example>',
  },
  APP_NAME: { is: 'a name for emails', fix: 'use 1 to 100 characters' },
  LINK_TTL: { is: 'a number of seconds', fix: 'set a whole number from 1 to 4294967295' },
  LINK_TTL_MAX: { is: 'a number of seconds', fix: 'set a whole number from 1 to 4294967295' },
  ACCESS_TTL_MAX: { is: 'a number of seconds', fix: 'set a whole number from 1 to 4294967295' },
  SESSION_TTL: { is: 'a number of seconds', fix: 'set a whole number from 1 to 4294967295' },
  REFRESH_TTL: { is: 'a number of seconds', fix: 'set a whole number from 1 to 4294967295' },
  SESSION_AUDIENCE: {
    is: 'an audience',
    fix: 'set the aud your backends expect, or leave it unset',
  },
  ALLOWED_REDIRECTS: {
    is: 'an exact origin',
    fix: 'list origins like https://app.example, comma-separated, without path or trailing slash',
  },
  TRUST_PROXY: {
    is: 'a proxy setting',
    fix: 'set true, false, a number of hops, or proxy IP addresses and CIDR ranges',
  },
  RATE_LIMIT_IP: { is: 'a rate', fix: 'set count/window, like 60/1m (s, m or h), or off' },
  RATE_LIMIT_API_KEY: { is: 'a rate', fix: 'set count/window, like 60/1m (s, m or h), or off' },
  RATE_LIMIT_RECIPIENT: { is: 'a rate', fix: 'set count/window, like 60/1m (s, m or h), or off' },
  RATE_LIMIT_FORM_IP: { is: 'a rate', fix: 'set count/window, like 60/1m (s, m or h), or off' },
  HOSTED_SIGNUP: {
    is: 'true or false',
    fix: 'set true (the form creates users) or false (it signs in existing users only)',
  },
  DOCS: { is: 'on or off', fix: 'set on to serve /docs, or off' },
  REQUEST_TIMEOUT: { is: 'a number of seconds', fix: 'set a whole number from 1 to 3600' },
  HEADERS_TIMEOUT: { is: 'a number of seconds', fix: 'set a whole number from 1 to 3600' },
  KEEP_ALIVE_TIMEOUT: { is: 'a number of seconds', fix: 'set a whole number from 1 to 3600' },
  MAX_CONNECTIONS: {
    is: 'a number of connections',
    fix: 'set a whole number from 1 to 1000000',
  },
  HANDOFF: { is: 'a hand-over', fix: 'set cookie or code' },
  LOG_LEVEL: { is: 'a log level', fix: 'set fatal, error, warn, info, debug, trace or silent' },
}

/** Settings whose values are never repeated in a message: they are, or may hold, secrets. */
const SECRET_SETTINGS = new Set([
  'LINK_SECRETS',
  'SESSION_KEYS',
  'API_KEYS',
  'RESEND_API_KEY',
  'DATABASE_URL',
  'REDIS_URL',
])

const GENERATE = 'generate one with `latchkey keys`'

/** What is wrong with one entry of a list of keys, by the field that is wrong. */
const ENTRY_PROBLEMS: Record<string, Record<string, string>> = {
  LINK_SECRETS: {
    kid: 'the kid is not a whole number from 0 to 255; give each secret a kid from 0 to 255',
    secret: `the secret is not base64url of 32 bytes or more; ${GENERATE}`,
  },
  SESSION_KEYS: {
    '': `not a private JWK (a JSON object with kid, kty and d); ${GENERATE}`,
    kid: 'the key has no kid; give each key a kid of its own',
    kty: `the key is not EC (P-256) or OKP (Ed25519), the two kinds latchkey signs with; ${GENERATE}`,
    d: `the key has no private part (d), and a public key cannot sign; ${GENERATE}`,
  },
  API_KEYS: {
    name: 'the name is not 1 to 64 letters, digits and _ . -; rename it',
    role: 'the role is not service or admin; use one of them',
    hash: 'the hash is not 64 hex digits; configure the SHA-256 of the key, never the key itself (`latchkey keys` prints an entry)',
  },
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
      problems.push(`${name}: cannot read the file it names; check the path and its permissions`)
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

  problems.push(...schemaProblems(candidate, get, (name) => production && !env[name]?.trim()))
  if (problems.length === 0) problems.push(...crossChecks(candidate as Config))
  if (production) problems.push(...productionChecks(env))
  if (problems.length > 0) throw new ConfigError([...new Set(problems)])
  return candidate as Config
}

/**
 * Each setting checked against its part of the schema on its own, so that every bad setting is
 * named (the validator stops after a few errors) and each in its own words (EXPECTED).
 * `unsetInProduction` says whether production will name a missing secret itself.
 */
function schemaProblems(
  candidate: Record<string, unknown>,
  raw: (name: string) => string | undefined,
  unsetInProduction: (name: string) => boolean,
): string[] {
  const problems: string[] = []
  const properties = ConfigSchema.properties as Record<string, TSchema>
  for (const [path, name] of Object.entries(SOURCE)) {
    const [top = '', field] = path.split('/')
    const parent = properties[top] as TSchema & {
      properties?: Record<string, TSchema>
      required?: string[]
    }
    const schema = field === undefined ? parent : parent.properties?.[field]
    const value = field === undefined ? candidate[top] : (candidate[top] as never)[field]
    const required = field === undefined ? ConfigSchema.required : (parent.required ?? [])
    if (value === undefined && !required.includes(field ?? top)) continue
    if (schema === undefined || Value.Check(schema, value)) continue
    if (name in ENTRY_PROBLEMS) {
      problems.push(...entryProblems(name, schema, value, unsetInProduction(name)))
    } else if (name === 'ALLOWED_REDIRECTS') {
      const item = (schema as TSchema & { items: TSchema }).items
      for (const origin of value as unknown[]) {
        if (!Value.Check(item, origin)) problems.push(notA(name, String(origin)))
      }
    } else {
      problems.push(notA(name, raw(name)))
    }
  }
  return problems
}

/** `NAME: "value" is not …; fix`, the value left out when it may be a secret. */
function notA(name: string, value: string | undefined): string {
  const expected = EXPECTED[name] ?? { is: 'valid', fix: 'see the configuration table' }
  const what = value === undefined || SECRET_SETTINGS.has(name) ? 'the value' : quote(value)
  return `${name}: ${what} is not ${expected.is}; ${expected.fix}`
}

/** Problems of a list of keys, entry by entry, in the words of ENTRY_PROBLEMS. */
function entryProblems(name: string, schema: TSchema, value: unknown, unset: boolean): string[] {
  const entries = value as unknown[]
  if (entries.length === 0) {
    // Production names an unset secret itself; say it once.
    return unset ? [] : [`${name}: missing; ${GENERATE}`]
  }
  const item = (schema as TSchema & { items: TSchema & { properties: Record<string, TSchema> } })
    .items
  const words = ENTRY_PROBLEMS[name] as Record<string, string>
  const problems: string[] = []
  entries.forEach((entry, i) => {
    if (Value.Check(item, entry)) return
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${name}: entry ${i + 1}: ${words['']}`)
      return
    }
    for (const [field, fieldSchema] of Object.entries(item.properties)) {
      if (Value.Check(fieldSchema, (entry as Record<string, unknown>)[field])) continue
      problems.push(`${name}: entry ${i + 1}: ${words[field]}`)
    }
  })
  return problems
}

/**
 * A value as a message shows it: quoted, shortened, and with every character outside printable
 * ASCII escaped, so that a stray control character cannot rewrite the terminal it is shown in.
 */
function quote(value: string): string {
  const short = value.length > 60 ? `${value.slice(0, 60)}…` : value
  return JSON.stringify(short).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** What production demands. Checked whatever else is wrong, so every problem shows at once. */
function productionChecks(env: Env): string[] {
  const problems: string[] = []
  const set = (name: string) => Boolean(env[name]?.trim())
  for (const name of GENERATED_IN_DEVELOPMENT) {
    if (!set(name)) problems.push(`${name}: missing, and production needs it; ${GENERATE}`)
  }
  const transport = env.MAIL_TRANSPORT?.trim()
  if (!transport) {
    problems.push('MAIL_TRANSPORT: missing, and production needs it; set resend')
  } else if (transport === 'log') {
    // The log transport prints every sign-in link: whoever reads the logs could sign in as anyone.
    problems.push(
      'MAIL_TRANSPORT: log prints sign-in links to the console, which production refuses; set resend',
    )
  }
  if (transport === 'resend' && !set('MAIL_FROM')) {
    problems.push(
      'MAIL_FROM: missing, and production needs it with resend; set an address on a domain Resend verified',
    )
  }
  if (!env.PUBLIC_URL?.trim().startsWith('https://')) {
    problems.push(
      'PUBLIC_URL: not https, which production needs (links carry sign-in tokens); set the https:// address people reach latchkey at',
    )
  }
  return problems
}

/** Rules that span fields; run once the shape is right. */
function crossChecks(config: Config): string[] {
  const problems: string[] = []
  if (config.linkTtl > config.linkTtlMax) {
    problems.push('LINK_TTL: longer than LINK_TTL_MAX; lower LINK_TTL or raise LINK_TTL_MAX')
  }
  if (config.server.headersTimeout > config.server.requestTimeout) {
    problems.push(
      'HEADERS_TIMEOUT: longer than REQUEST_TIMEOUT, which includes the headers; lower HEADERS_TIMEOUT or raise REQUEST_TIMEOUT',
    )
  }
  if (!isPublicUrl(config.publicUrl)) problems.push(notA('PUBLIC_URL', config.publicUrl))
  for (const origin of config.allowedRedirects) {
    if (originOf(origin) !== origin) problems.push(notA('ALLOWED_REDIRECTS', origin))
  }
  const kids = config.linkSecrets.map((s) => s.kid)
  for (const kid of new Set(kids.filter((kid, i) => kids.indexOf(kid) !== i))) {
    problems.push(`LINK_SECRETS: kid ${kid} names two secrets; give each secret a kid of its own`)
  }
  // Compared as bytes, in their one canonical spelling: base64url's last character carries
  // spare bits, so two spellings could otherwise hide one secret.
  for (const { kid, secret } of config.linkSecrets) {
    if (!isCanonicalBase64url(secret)) {
      problems.push(
        `LINK_SECRETS: the secret of kid ${kid} is not in canonical base64url (its last character has stray bits); ${GENERATE}`,
      )
      continue
    }
    const weakness = weakSecretReason(Buffer.from(secret, 'base64url'))
    if (weakness !== undefined) {
      problems.push(`LINK_SECRETS: the secret of kid ${kid} ${weakness}; ${GENERATE}`)
    }
  }
  const secrets = config.linkSecrets.map((s) => s.secret)
  if (new Set(secrets).size !== secrets.length) {
    problems.push(`LINK_SECRETS: one secret appears under two kids; ${GENERATE} for each`)
  }
  // The HMAC secrets and the JWT signing keys must be independent: one leaked value must never
  // both forge links and sign sessions.
  const sessionSecrets = new Set(
    config.sessionKeys.map((k) => Buffer.from(k.d, 'base64url').toString('base64url')),
  )
  if (secrets.some((s) => sessionSecrets.has(s))) {
    problems.push(
      `LINK_SECRETS and SESSION_KEYS: a link secret is also a session key; ${GENERATE} for each`,
    )
  }
  for (const { kid, d } of config.sessionKeys) {
    const weakness = weakSecretReason(Buffer.from(d, 'base64url'))
    if (weakness !== undefined) {
      problems.push(
        `SESSION_KEYS: the private part (d) of kid ${quote(kid)} ${weakness}; ${GENERATE}`,
      )
    }
  }
  const sessionKids = config.sessionKeys.map((k) => k.kid)
  for (const kid of new Set(sessionKids.filter((kid, i) => sessionKids.indexOf(kid) !== i))) {
    problems.push(`SESSION_KEYS: kid ${quote(kid)} names two keys; give each key a kid of its own`)
  }
  const apiKeyNames = config.apiKeys.map((k) => k.name)
  for (const name of new Set(apiKeyNames.filter((n, i) => apiKeyNames.indexOf(n) !== i))) {
    problems.push(`API_KEYS: the name ${name} is given to two keys; give each key its own name`)
  }
  // A session's client_id is the name of the key that opened it, or `hosted` for the hosted
  // pages: a key of that name would make its sessions pass for the hosted pages' own.
  if (apiKeyNames.includes('hosted')) {
    problems.push('API_KEYS: the name hosted is reserved for the hosted pages; choose another name')
  }
  if (config.mail.transport === 'resend' && !config.mail.resendApiKey) {
    problems.push(
      'RESEND_API_KEY: missing, and MAIL_TRANSPORT=resend needs it; set your Resend API key',
    )
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
    problems.push(notA(name, value))
    return null
  }
  const max = Number(match[1])
  const windowSeconds = Number(match[2]) * (WINDOW_UNIT_SECONDS[match[3] as string] as number)
  // Reported here, in words, and then left out: the schema would only say it again.
  if (max < 1 || max > 1_000_000_000) {
    problems.push(`${name}: the count is not 1 to 1000000000; set one in that range, or off`)
    return null
  }
  if (windowSeconds < 1 || windowSeconds > 24 * 3600) {
    problems.push(`${name}: the window is not 1s to 24h; set one in that range`)
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
      problems.push(notA('TRUST_PROXY', entry))
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
      problems.push(`LINK_SECRETS: entry ${i + 1}: not kid:base64url-secret; ${GENERATE}`)
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
      problems.push(
        `API_KEYS: entry ${i + 1}: not name:role:sha256hex; \`latchkey keys\` prints one`,
      )
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
  problems.push(`${name}: not a JSON array of private JWKs; ${GENERATE}`)
  return []
}
