import { randomBytes } from 'node:crypto'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import type { Test } from 'tap'
import t from 'tap'
import type { TSchema } from 'typebox'
import { generateApiKey } from '../src/auth/api-keys.js'
import {
  type Config,
  ConfigSchema,
  type Env,
  loadConfig,
  resolveEnv,
  SETTINGS,
  TABLE,
} from '../src/config/index.js'
import { weakSecretReason } from '../src/config/secret-strength.js'
import { ConfigError } from '../src/errors.js'
import { generateSessionKey } from '../src/sessions/jwt.js'
import { configProblems } from './helpers/config.js'
import { tempDir as scratchDir } from './helpers/temp.js'

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const secret = (bytes = 32): string => randomBytes(bytes).toString('base64url')
const sessionKey = (await generateSessionKey({ kid: 's1' })) as { d: string; kid: string }
const otherSessionKey = (await generateSessionKey({ kid: 's2' })) as { d: string; kid: string }
const serviceKey = generateApiKey('billing', 'service')
const adminKey = generateApiKey('ops', 'admin')

/** The three secrets every configuration needs, valid. */
const keys: Env = {
  LINK_SECRETS: `1:${secret()}`,
  SESSION_KEYS: JSON.stringify([sessionKey]),
  API_KEYS: `${serviceKey.entry},${adminKey.entry}`,
}

/** The ConfigError loadConfig throws for env; fails the test when it does not throw one. */
const problemsOf = (env: Env): string[] =>
  configProblems(() => loadConfig(env), JSON.stringify(env))

/** Asserts that env is refused and that one problem names `name`. */
function refuses(t: Test, env: Env, name: RegExp | string, message?: string): void {
  const label = message ?? JSON.stringify(env)
  let problems: string[]
  try {
    loadConfig({ ...keys, ...env })
    t.fail(`accepted: ${label}`)
    return
  } catch (error) {
    t.type(error, ConfigError, label)
    if (!(error instanceof ConfigError)) return
    problems = error.problems
  }
  const pattern = typeof name === 'string' ? new RegExp(`^${name}\\b`) : name
  t.ok(
    problems.some((p) => pattern.test(p)),
    `${label}: a problem names ${pattern} (${JSON.stringify(problems)})`,
  )
}

/** A base64url spelling of the same bytes that differs in the last character's spare bits. */
function respell(b64url: string): string {
  const last = b64url.at(-1) ?? 'A'
  const other = BASE64URL[BASE64URL.indexOf(last) ^ 1] ?? 'A'
  const alt = b64url.slice(0, -1) + other
  if (!Buffer.from(alt, 'base64url').equals(Buffer.from(b64url, 'base64url'))) {
    throw new Error('respell: not the same bytes')
  }
  return alt
}

const tempDir = (t: Test) => scratchDir(t, 'latchkey-config-')

t.test('defaults', async (t) => {
  const config = loadConfig(keys)
  t.equal(config.production, false)
  t.equal(config.port, 3000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.publicUrl, 'http://localhost:3000')
  t.equal(config.dataDir, './data')
  t.same(config.database, { kind: 'sqlite', file: join('./data', 'latchkey.db') })
  t.equal(config.linkTtl, 900)
  t.equal(config.linkTtlMax, 3600)
  t.equal(config.accessTtlMax, 7 * 24 * 3600)
  t.equal(config.sessionTtl, 900)
  t.equal(config.refreshTtl, 2592000)
  t.equal(config.sessionAudience, 'http://localhost:3000')
  t.equal(config.mail.transport, 'log')
  t.same(config.allowedRedirects, [])
  t.equal(config.trustProxy, false)
  t.equal(config.logLevel, 'info')
  t.equal(config.redisUrl, undefined)
  t.same(config.rateLimits, {
    ip: { max: 60, windowSeconds: 60 },
    // A safety net, never a quota: far past what one instance serves (see rate-settings.ts).
    apiKey: { max: 6_000_000, windowSeconds: 60 },
    recipient: { max: 5, windowSeconds: 900 },
    formIp: { max: 10, windowSeconds: 900 },
    code: { max: 5, windowSeconds: 900 },
  })
  t.equal(config.hostedSignup, true)
  t.equal(config.docs, true, 'docs are on in development')
  t.same(config.server, {
    requestTimeout: 30,
    headersTimeout: 10,
    keepAliveTimeout: 5,
    maxConnections: 1000,
  })
})

t.test('PUBLIC_URL follows PORT, SESSION_AUDIENCE follows PUBLIC_URL', async (t) => {
  const onPort = loadConfig({ ...keys, PORT: '8080' })
  t.equal(onPort.port, 8080)
  t.equal(onPort.publicUrl, 'http://localhost:8080')
  t.equal(onPort.sessionAudience, 'http://localhost:8080')
  const onDefaultPort = loadConfig({ ...keys, PORT: '80' })
  t.equal(onDefaultPort.publicUrl, 'http://localhost', 'in the spelling PUBLIC_URL would get')

  const withUrl = loadConfig({ ...keys, PUBLIC_URL: 'https://login.example/auth/' })
  t.equal(withUrl.publicUrl, 'https://login.example/auth', 'trailing slash dropped')
  t.equal(withUrl.sessionAudience, 'https://login.example/auth')

  const withAudience = loadConfig({
    ...keys,
    PUBLIC_URL: 'https://login.example',
    SESSION_AUDIENCE: 'https://api.example',
  })
  t.equal(withAudience.sessionAudience, 'https://api.example')
})

t.test('the SQLite file lives in DATA_DIR', async (t) => {
  const config = loadConfig({ ...keys, DATA_DIR: '/var/lib/latchkey' })
  t.equal(config.dataDir, '/var/lib/latchkey')
  t.same(config.database, { kind: 'sqlite', file: '/var/lib/latchkey/latchkey.db' })
})

t.test('empty and blank variables count as unset', async (t) => {
  const config = loadConfig({ ...keys, PORT: '', HOST: '  ', LINK_TTL: '', ALLOWED_REDIRECTS: '' })
  t.equal(config.port, 3000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.linkTtl, 900)
  t.same(config.allowedRedirects, [])
})

t.test('DATABASE_URL selects the store', async (t) => {
  const database = (url: string): Config['database'] =>
    loadConfig({ ...keys, DATABASE_URL: url }).database
  t.same(database('postgres://u:p@db:5432/latchkey'), {
    kind: 'postgres',
    url: 'postgres://u:p@db:5432/latchkey',
  })
  t.same(database('postgresql://db/latchkey'), {
    kind: 'postgres',
    url: 'postgresql://db/latchkey',
  })
  t.same(database('/srv/latchkey.db'), { kind: 'sqlite', file: '/srv/latchkey.db' })
  t.same(database('relative/latchkey.db'), { kind: 'sqlite', file: 'relative/latchkey.db' })
  t.same(database('sqlite:/srv/latchkey.db'), { kind: 'sqlite', file: '/srv/latchkey.db' })
  t.same(database('sqlite:///srv/latchkey.db'), { kind: 'sqlite', file: '/srv/latchkey.db' })
  t.same(database('sqlite:data/x.db'), { kind: 'sqlite', file: 'data/x.db' })
})

t.test('LINK_SECRETS: kid:secret entries, the first signs', async (t) => {
  const a = secret()
  const b = secret(48)
  const config = loadConfig({ ...keys, LINK_SECRETS: `7:${a}, 3:${b}` })
  t.same(config.linkSecrets, [
    { kid: 7, secret: a },
    { kid: 3, secret: b },
  ])
  t.equal(config.linkSecrets[0]?.kid, 7, 'the first entry signs')
  t.same(loadConfig({ ...keys, LINK_SECRETS: `0:${a}` }).linkSecrets, [{ kid: 0, secret: a }])
  t.same(loadConfig({ ...keys, LINK_SECRETS: `255:${a}` }).linkSecrets, [{ kid: 255, secret: a }])
})

t.test('LINK_SECRETS: a secret shorter than 32 bytes is refused', async (t) => {
  const s31 = secret(31)
  t.equal(Buffer.from(s31, 'base64url').length, 31)
  refuses(t, { LINK_SECRETS: `1:${s31}` }, 'LINK_SECRETS', '31 bytes')
  refuses(t, { LINK_SECRETS: `1:${secret(16)}` }, 'LINK_SECRETS', '16 bytes')
  refuses(t, { LINK_SECRETS: '1:short' }, 'LINK_SECRETS', 'a word')
  refuses(t, { LINK_SECRETS: '1:' }, 'LINK_SECRETS', 'empty secret')
  refuses(t, { LINK_SECRETS: `1:${secret()},2:${s31}` }, 'LINK_SECRETS', 'a short second entry')
  t.equal(loadConfig({ ...keys, LINK_SECRETS: `1:${secret(32)}` }).linkSecrets.length, 1)
})

t.test('LINK_SECRETS: malformed entries are refused', async (t) => {
  const s = secret()
  for (const value of [
    s,
    `x:${s}`,
    `-1:${s}`,
    `256:${s}`,
    `1.5:${s}`,
    `1:${s}:extra`,
    `1:${randomBytes(32).toString('base64')}+/==`,
    `1:${s}=`,
    `1:${s},`,
    `:${s}`,
  ]) {
    refuses(t, { LINK_SECRETS: value }, 'LINK_SECRETS', JSON.stringify(value))
  }
})

t.test('LINK_SECRETS: duplicate kids are refused', async (t) => {
  refuses(
    t,
    { LINK_SECRETS: `1:${secret()},1:${secret()}` },
    /LINK_SECRETS: kid 1 names two secrets/,
  )
})

t.test('LINK_SECRETS: the same secret under two kids is refused', async (t) => {
  const s = secret()
  refuses(
    t,
    { LINK_SECRETS: `1:${s},2:${s}` },
    /LINK_SECRETS: one secret appears under two kids/,
    'same spelling',
  )
  // Security requirement 1: the check is on key material, not on how it is spelled. The last
  // base64url character of a 32-byte secret carries 2 spare bits, so four spellings decode to the
  // same 32 bytes.
  refuses(t, { LINK_SECRETS: `1:${s},2:${respell(s)}` }, 'LINK_SECRETS', 'respelled')
})

t.test('a session key `d` equal to a link secret is refused', async (t) => {
  refuses(
    t,
    { LINK_SECRETS: `1:${sessionKey.d}` },
    /LINK_SECRETS and SESSION_KEYS/,
    'same spelling',
  )
  refuses(
    t,
    {
      LINK_SECRETS: `1:${secret()},2:${otherSessionKey.d}`,
      SESSION_KEYS: JSON.stringify([sessionKey, otherSessionKey]),
    },
    /LINK_SECRETS and SESSION_KEYS/,
    'any entry against any key',
  )
  refuses(
    t,
    { LINK_SECRETS: `1:${respell(sessionKey.d)}` },
    // Refused either as shared material or, earlier, for its non-canonical spelling.
    /^LINK_SECRETS/,
    'the same 32 bytes spelled differently',
  )
})

t.test('SESSION_KEYS: a JSON array of private JWKs, first signs', async (t) => {
  const config = loadConfig({
    ...keys,
    SESSION_KEYS: JSON.stringify([otherSessionKey, sessionKey]),
  })
  t.same(
    config.sessionKeys.map((k) => k.kid),
    ['s2', 's1'],
  )
})

t.test('SESSION_KEYS: unsafe or malformed keys are refused', async (t) => {
  const { d: _d, ...publicOnly } = sessionKey
  const { kid: _kid, ...noKid } = sessionKey
  const cases: [string, string][] = [
    ['oct', JSON.stringify([{ kty: 'oct', kid: 'h', k: secret(), d: secret() }])],
    ['oct without d', JSON.stringify([{ kty: 'oct', kid: 'h', k: secret() }])],
    ['RSA', JSON.stringify([{ ...sessionKey, kty: 'RSA' }])],
    ['public only', JSON.stringify([publicOnly])],
    ['no kid', JSON.stringify([noKid])],
    ['duplicate kids', JSON.stringify([sessionKey, { ...otherSessionKey, kid: 's1' }])],
    ['not JSON', '{kty:OKP'],
    ['an object, not an array', JSON.stringify(sessionKey)],
    ['empty array', '[]'],
    ['array of strings', '["x"]'],
  ]
  for (const [label, value] of cases) refuses(t, { SESSION_KEYS: value }, 'SESSION_KEYS', label)
})

t.test('API_KEYS: name:role:sha256hex entries', async (t) => {
  const [, , hash] = serviceKey.entry.split(':')
  const config = loadConfig({
    ...keys,
    API_KEYS: ` billing:service:${hash?.toUpperCase()} , ${adminKey.entry},scraper:metrics:${hash}`,
  })
  t.same(config.apiKeys, [
    { name: 'billing', role: 'service', hash },
    { name: 'ops', role: 'admin', hash: adminKey.entry.split(':')[2] },
    { name: 'scraper', role: 'metrics', hash },
  ])
})

t.test('API_KEYS: an unknown role is refused, naming the three there are', async (t) => {
  const [, , hash = ''] = serviceKey.entry.split(':')
  refuses(
    t,
    { API_KEYS: `billing:root:${hash}` },
    /^API_KEYS: entry 1: the role is not service, admin or metrics/,
  )
})

t.test('API_KEYS: malformed entries are refused', async (t) => {
  const [, , hash = ''] = serviceKey.entry.split(':')
  for (const value of [
    `billing:root:${hash}`,
    `billing:Metrics:${hash}`,
    `billing:service:${hash.slice(1)}`,
    `billing:service:${hash}0`,
    `billing:service:${'g'.repeat(64)}`,
    `billing:service`,
    `billing`,
    `:service:${hash}`,
    `bill ing:service:${hash}`,
    `billing:service:${serviceKey.key}`,
    `${serviceKey.entry},`,
    // A fourth field is a mistake (a pasted key, a stray colon): refuse it rather than drop it,
    // as LINK_SECRETS does.
    `${serviceKey.entry}:extra`,
  ]) {
    refuses(t, { API_KEYS: value }, 'API_KEYS', JSON.stringify(value))
  }
})

t.test('ALLOWED_REDIRECTS: exact origins', async (t) => {
  const config = loadConfig({
    ...keys,
    ALLOWED_REDIRECTS: 'https://app.example, http://localhost:5173,https://[::1]:8443',
  })
  t.same(config.allowedRedirects, [
    'https://app.example',
    'http://localhost:5173',
    'https://[::1]:8443',
  ])
})

t.test('ALLOWED_REDIRECTS: anything but an exact origin is refused', async (t) => {
  for (const value of [
    'https://app.example/',
    'https://app.example/path',
    'https://app.example?x',
    'https://app.example#x',
    'https://APP.example',
    'https://app.example:443',
    'http://app.example:80',
    'https://user@app.example',
    'app.example',
    '//app.example',
    'ftp://app.example',
    'javascript:alert(1)',
    'https://app.example,https://evil.example/',
    // Not a URL at all: refused with a problem naming the variable, not a TypeError.
    'https://app example',
    'https://[x',
  ]) {
    refuses(t, { ALLOWED_REDIRECTS: value }, 'ALLOWED_REDIRECTS', JSON.stringify(value))
  }
})

t.test('TRUST_PROXY', async (t) => {
  const trust = (value: string) => loadConfig({ ...keys, TRUST_PROXY: value }).trustProxy
  for (const value of ['true', 'TRUE', '1', 'yes']) {
    t.equal(trust(value), 1, `${value}: the one proxy in front, never every hop`)
  }
  for (const value of ['false', 'False', '0', 'no']) t.equal(trust(value), false, value)
  t.equal(trust('2'), 2, 'a number of hops')
  t.same(trust('10.0.0.0/8, 192.0.2.7,2001:db8::/32'), ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'])
  for (const value of [
    'maybe',
    '11',
    '10.0.0.0/33',
    '2001:db8::/129',
    'proxy.internal',
    '10.0.0.1/8/8',
    '1.2.3',
  ]) {
    refuses(t, { TRUST_PROXY: value }, 'TRUST_PROXY', value)
  }
})

t.test('numbers: bad values are refused, each naming its variable', async (t) => {
  const cases: [string, string][] = [
    ['PORT', 'abc'],
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['PORT', '0x50'],
    ['PORT', '1e3'],
    ['LINK_TTL', '-1'],
    ['LINK_TTL', '0'],
    ['LINK_TTL', 'ten'],
    ['LINK_TTL_MAX', '0'],
    ['LINK_TTL_MAX', '4294967296'],
    ['SESSION_TTL', '15m'],
    ['REFRESH_TTL', '-5'],
    ['ACCESS_TTL_MAX', 'Infinity'],
  ]
  for (const [name, value] of cases) refuses(t, { [name]: value }, name, `${name}=${value}`)
})

t.test('LINK_TTL may not exceed LINK_TTL_MAX', async (t) => {
  refuses(t, { LINK_TTL: '3601' }, /LINK_TTL: longer than LINK_TTL_MAX/)
  refuses(t, { LINK_TTL: '600', LINK_TTL_MAX: '300' }, /LINK_TTL: longer than/)
  const config = loadConfig({ ...keys, LINK_TTL: '3600' })
  t.equal(config.linkTtl, 3600, 'equal is fine')
  t.equal(loadConfig({ ...keys, LINK_TTL: '60', LINK_TTL_MAX: '120' }).linkTtlMax, 120)
})

t.test('MAIL_TRANSPORT and LOG_LEVEL are checked', async (t) => {
  refuses(t, { MAIL_TRANSPORT: 'sendmail' }, 'MAIL_TRANSPORT')
  refuses(t, { MAIL_TRANSPORT: 'resend' }, 'RESEND_API_KEY', 'resend needs a key')
  t.equal(
    loadConfig({ ...keys, MAIL_TRANSPORT: 'resend', RESEND_API_KEY: 're_x' }).mail.transport,
    'resend',
  )
  refuses(t, { LOG_LEVEL: 'loud' }, 'LOG_LEVEL')
  t.equal(loadConfig({ ...keys, LOG_LEVEL: 'silent' }).logLevel, 'silent')
})

t.test('PUBLIC_URL must be a URL', async (t) => {
  refuses(t, { PUBLIC_URL: 'login.example' }, 'PUBLIC_URL', 'no scheme')
  refuses(t, { PUBLIC_URL: 'ftp://login.example' }, 'PUBLIC_URL', 'ftp')
  refuses(t, { PUBLIC_URL: 'https://login.example?x=1' }, 'PUBLIC_URL', 'a query')
  // Every link is built from it: one that no URL parser accepts must not pass.
  refuses(t, { PUBLIC_URL: 'https://login example' }, 'PUBLIC_URL', 'a space in the host')
})

t.test('production with nothing set names every missing thing at once', async (t) => {
  const problems = problemsOf({ NODE_ENV: 'production' })
  for (const name of ['LINK_SECRETS', 'SESSION_KEYS', 'API_KEYS', 'MAIL_TRANSPORT', 'PUBLIC_URL']) {
    t.ok(
      problems.some((p) => p.startsWith(name)),
      `${name} is named (${JSON.stringify(problems)})`,
    )
  }
  t.ok(
    problems.some((p) => /^PUBLIC_URL.*https/.test(p)),
    'PUBLIC_URL is refused for being http',
  )
})

const production: Env = {
  ...keys,
  NODE_ENV: 'production',
  MAIL_TRANSPORT: 'resend',
  RESEND_API_KEY: 're_test',
  MAIL_FROM: 'Acme <login@acme.example>',
  PUBLIC_URL: 'https://login.example',
}

t.test('production with everything set and an https PUBLIC_URL loads', async (t) => {
  const config = loadConfig(production)
  t.equal(config.production, true)
  t.equal(config.publicUrl, 'https://login.example')
  t.equal(config.sessionAudience, 'https://login.example')
})

t.test('DOCS: off in production unless DOCS=on, on in development unless DOCS=off', async (t) => {
  t.equal(loadConfig(production).docs, false)
  t.equal(loadConfig({ ...production, DOCS: 'on' }).docs, true)
  t.equal(loadConfig(keys).docs, true)
  t.equal(loadConfig({ ...keys, DOCS: 'off' }).docs, false)
})

t.test('production refuses each missing piece, naming it', async (t) => {
  for (const name of ['LINK_SECRETS', 'SESSION_KEYS', 'API_KEYS', 'MAIL_TRANSPORT']) {
    refuses(t, { ...production, [name]: undefined }, name, `without ${name}`)
  }
  refuses(t, { ...production, PUBLIC_URL: 'http://login.example' }, /^PUBLIC_URL.*https/, 'http')
  refuses(t, { ...production, PUBLIC_URL: undefined }, /^PUBLIC_URL.*https/, 'the default')
  refuses(t, { ...production, MAIL_FROM: undefined }, 'MAIL_FROM', 'resend without MAIL_FROM')
})

t.test('production refuses to switch off the sign-in code budget', async (t) => {
  refuses(t, { ...production, RATE_LIMIT_CODE: 'off' }, /^RATE_LIMIT_CODE: off/, 'off')
  t.same(loadConfig({ ...production, RATE_LIMIT_CODE: '3/1h' }).rateLimits.code, {
    max: 3,
    windowSeconds: 3600,
  })
  t.equal(loadConfig({ ...keys, RATE_LIMIT_CODE: 'off' }).rateLimits.code, null, 'development')
})

t.test('production refuses the log transport, which prints sign-in links', async (t) => {
  const problems = problemsOf({ ...production, MAIL_TRANSPORT: 'log' })
  t.same(problems, [
    'MAIL_TRANSPORT: log prints sign-in links to the console, which production refuses; set resend or smtp',
  ])
  t.equal(loadConfig({ ...keys, MAIL_TRANSPORT: 'log' }).mail.transport, 'log', 'development')
})

const twice = (bytes: Buffer): Buffer => Buffer.concat([bytes, bytes])

/** Weak secrets people write instead of generating one, each 32 bytes or more. */
const WEAK_SECRETS: [string, Buffer][] = [
  ['all zero bytes', Buffer.alloc(32)],
  ['AAAA… (zero bytes, as base64url)', Buffer.from('A'.repeat(43), 'base64url')],
  ['one byte repeated', Buffer.alloc(48, 0xa5)],
  ['a short pattern repeated', Buffer.from('deadbeef'.repeat(8), 'hex')],
  ['16 random bytes twice', twice(randomBytes(16))],
  ['counting up', Buffer.from(Array.from({ length: 32 }, (_, i) => i))],
  ['counting down in steps of 3', Buffer.from(Array.from({ length: 40 }, (_, i) => 250 - 3 * i))],
  ['few distinct values', Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 7) % 5))],
  ['a password', Buffer.from('correct horse battery staple, 2024!')],
  ['a hex string', Buffer.from(randomBytes(32).toString('hex'))],
  ['a base64 string', Buffer.from(randomBytes(32).toString('base64'))],
]

t.test('LINK_SECRETS: low-entropy secrets are refused in every mode (DESIGN 1)', async (t) => {
  for (const [label, bytes] of WEAK_SECRETS) {
    t.ok(bytes.length >= 32, `${label}: long enough to pass the length check`)
    const value = `1:${bytes.toString('base64url')}`
    for (const env of [keys, production]) {
      const problems = problemsOf({ ...env, LINK_SECRETS: value })
      t.match(
        problems,
        [/^LINK_SECRETS: the secret of kid 1 .*; generate one with `latchkey keys`$/],
        `${label} (${env === production ? 'production' : 'development'})`,
      )
    }
  }
  t.match(
    problemsOf({
      ...keys,
      LINK_SECRETS: `1:${secret()},2:${Buffer.alloc(32).toString('base64url')}`,
    }),
    [/^LINK_SECRETS: the secret of kid 2 takes only 1 distinct byte value;/],
    'a weak second entry is named by its kid',
  )
})

t.test('production with a dead secret and the log transport names both (issue 9, 4)', async (t) => {
  const problems = problemsOf({
    ...production,
    LINK_SECRETS: `1:${Buffer.alloc(32).toString('base64url')}`,
    MAIL_TRANSPORT: 'log',
  })
  t.equal(problems.length, 2, JSON.stringify(problems))
  t.match(problems, [/^LINK_SECRETS: /, /^MAIL_TRANSPORT: /])
})

t.test('SESSION_KEYS: a key whose private part is low-entropy is refused', async (t) => {
  const zero = { ...sessionKey, d: Buffer.alloc(32).toString('base64url') }
  t.match(problemsOf({ ...keys, SESSION_KEYS: JSON.stringify([zero]) }), [
    /^SESSION_KEYS: the private part \(d\) of kid "s1" takes only 1 distinct byte value; generate one with `latchkey keys`$/,
  ])
})

t.test('property: secrets from random bytes are never called weak', async (t) => {
  // Unbiased: fast-check otherwise favours small and repeated values on purpose, which random
  // bytes are not (and which the checks exist to catch).
  fc.assert(
    fc.property(fc.noBias(fc.uint8Array({ minLength: 32, maxLength: 64 })), (bytes) => {
      return weakSecretReason(bytes) === undefined
    }),
    { numRuns: 20_000 },
  )
  t.pass('no random secret was refused')
})

t.test('a ConfigError lists its problems in its message', async (t) => {
  try {
    loadConfig({ ...keys, PORT: 'abc', LINK_TTL: '-1' })
    t.fail('accepted')
  } catch (error) {
    t.type(error, ConfigError)
    const e = error as ConfigError
    t.equal(e.code, 'config_invalid')
    t.ok(e.problems.some((p) => p.startsWith('PORT')))
    t.ok(e.problems.some((p) => p.startsWith('LINK_TTL')))
    for (const p of e.problems) t.match(e.message, p)
  }
})

t.test('field, cross-field and production problems are all named in one ConfigError', async (t) => {
  const problems = problemsOf({
    ...production,
    PORT: 'abc',
    LOG_LEVEL: 'loud',
    API_KEYS: `${serviceKey.entry},${serviceKey.entry}`,
    LINK_TTL: '7200',
    HEADERS_TIMEOUT: '60',
    MAIL_TRANSPORT: 'log',
    PUBLIC_URL: 'http://login.example',
  })
  t.same(problems, [
    'PORT: "abc" is not a port number; set a whole number from 0 to 65535',
    'API_KEYS: the name billing is given to two keys; give each key its own name',
    'LOG_LEVEL: "loud" is not a log level; set fatal, error, warn, info, debug, trace or silent',
    'LINK_TTL: longer than LINK_TTL_MAX; lower LINK_TTL or raise LINK_TTL_MAX',
    'HEADERS_TIMEOUT: longer than REQUEST_TIMEOUT, which includes the headers; lower HEADERS_TIMEOUT or raise REQUEST_TIMEOUT',
    'MAIL_TRANSPORT: log prints sign-in links to the console, which production refuses; set resend or smtp',
    'PUBLIC_URL: not https, which production needs (links carry sign-in tokens); set the https:// address people reach latchkey at',
  ])
})

t.test('a rule across settings is left out while a setting it compares is wrong', async (t) => {
  // LINK_TTL_MAX is unreadable, so "longer than LINK_TTL_MAX" would say nothing true.
  t.same(problemsOf({ ...keys, LINK_TTL: '60', LINK_TTL_MAX: 'soon' }), [
    'LINK_TTL_MAX: "soon" is not a number of seconds; set a whole number from 1 to 4294967295',
  ])
  // A PORT that is no number leaves PUBLIC_URL's default to follow it, not to be refused too.
  t.same(problemsOf({ ...keys, PORT: 'x' }), [
    'PORT: "x" is not a port number; set a whole number from 0 to 65535',
  ])
})

t.test('every row of the settings table fills the Config field its path names', async (t) => {
  for (const name of SETTINGS) {
    const [top = '', field] = TABLE[name].path.split('/')
    const parent = (ConfigSchema.properties as Record<string, TSchema>)[top] as TSchema & {
      properties?: Record<string, TSchema>
    }
    const schema = field === undefined ? parent : parent?.properties?.[field]
    t.ok(schema, `${name}: ${TABLE[name].path} is a field of Config`)
    // Optional fields wrap the row's schema in a copy: compared as JSON.
    t.equal(JSON.stringify(schema), JSON.stringify(TABLE[name].schema), `${name}: its schema`)
  }
  const paths = SETTINGS.map((name) => TABLE[name].path)
  t.equal(new Set(paths).size, paths.length, 'no two settings fill one field')
})

t.test('NAME_FILE reads a secret from a file', async (t) => {
  const dir = tempDir(t)
  const linkSecrets = `4:${secret()}`
  writeFileSync(join(dir, 'link'), `${linkSecrets}\n`)
  writeFileSync(join(dir, 'session'), `${JSON.stringify([sessionKey])}\r\n`)
  writeFileSync(join(dir, 'api'), `${serviceKey.entry}`)
  const config = loadConfig({
    ...production,
    LINK_SECRETS: undefined,
    SESSION_KEYS: undefined,
    API_KEYS: undefined,
    LINK_SECRETS_FILE: join(dir, 'link'),
    SESSION_KEYS_FILE: join(dir, 'session'),
    API_KEYS_FILE: join(dir, 'api'),
  })
  t.same(config.linkSecrets, [{ kid: 4, secret: linkSecrets.slice(2) }], 'trailing newline gone')
  t.same(
    config.sessionKeys.map((k) => k.kid),
    ['s1'],
    'CRLF gone too',
  )
  t.equal(config.apiKeys[0]?.name, 'billing')
  t.equal(config.production, true, 'secrets from files satisfy production')

  const problems: string[] = []
  const env = resolveEnv({ PORT_FILE: join(dir, 'api'), HOST: 'x' }, problems)
  t.same(problems, [])
  t.equal(env.PORT, serviceKey.entry, 'resolveEnv reads any setting the same way')
  t.equal(env.HOST, 'x', 'other variables pass through')
})

t.test('NAME and NAME_FILE both set is a problem', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'link'), `1:${secret()}\n`)
  refuses(t, { LINK_SECRETS_FILE: join(dir, 'link') }, /LINK_SECRETS and LINK_SECRETS_FILE/)
  const problems: string[] = []
  resolveEnv({ API_KEYS: 'a', API_KEYS_FILE: join(dir, 'link') }, problems)
  t.equal(problems.length, 1)
  t.match(problems[0], /API_KEYS.*API_KEYS_FILE/)
})

t.test('an unreadable NAME_FILE is a problem', async (t) => {
  const dir = tempDir(t)
  refuses(
    t,
    { LINK_SECRETS: undefined, LINK_SECRETS_FILE: join(dir, 'missing') },
    /LINK_SECRETS_FILE/,
    'a missing file',
  )
  refuses(
    t,
    { LINK_SECRETS: undefined, LINK_SECRETS_FILE: dir },
    /LINK_SECRETS_FILE/,
    'a directory',
  )
  if (process.getuid?.() !== 0) {
    const locked = join(dir, 'locked')
    writeFileSync(locked, `1:${secret()}`)
    chmodSync(locked, 0o000)
    refuses(
      t,
      { LINK_SECRETS: undefined, LINK_SECRETS_FILE: locked },
      /LINK_SECRETS_FILE/,
      'mode 000',
    )
  }
})

t.test('an unrelated variable ending in _FILE is ignored', async (t) => {
  const config = loadConfig({
    ...keys,
    TF_CLI_CONFIG_FILE: '/nonexistent',
    KUBECONFIG_FILE: '/nonexistent',
    HISTFILE: '/nonexistent',
  })
  t.equal(config.port, 3000)
  const problems: string[] = []
  resolveEnv({ TF_CLI_CONFIG_FILE: '/nonexistent', LINK_SECRETS_FILE: '' }, problems)
  t.same(problems, [], 'and an empty NAME_FILE is unset')
})

// Properties: the parsers take any string without crashing, and round-trip what they should.

/** loadConfig returns or throws ConfigError: a TypeError here would be a crash at start-up. */
function onlyConfigErrors(env: Env): boolean {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return true
    throw error
  }
  return true
}

t.test('property: any value of any variable gives a Config or a ConfigError', async (t) => {
  const names = [
    'PORT',
    'HOST',
    'PUBLIC_URL',
    'DATABASE_URL',
    'LINK_SECRETS',
    'SESSION_KEYS',
    'API_KEYS',
    'MAIL_TRANSPORT',
    'LINK_TTL',
    'LINK_TTL_MAX',
    'SESSION_TTL',
    'ALLOWED_REDIRECTS',
    'TRUST_PROXY',
    'NODE_ENV',
    'RATE_LIMIT_IP',
    'RATE_LIMIT_API_KEY',
    'RATE_LIMIT_RECIPIENT',
  ]
  const value = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({
      unit: fc.constantFrom('1', ':', ',', 'a', '[', '{', '"', ' ', '/', '-'),
      maxLength: 30,
    }),
    fc
      .constantFrom('https://', 'http://', '1:', '[{')
      .chain((p) => fc.string({ maxLength: 30 }).map((s) => p + s)),
  )
  fc.assert(
    fc.property(fc.constantFrom(...names), value, (name, v) =>
      onlyConfigErrors({ ...keys, [name]: v }),
    ),
    {
      numRuns: 2000,
    },
  )
  t.pass('no other error')
})

t.test('property: kid:secret with 0 ≤ kid ≤ 255 and ≥ 32 bytes parses back', async (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 32, max: 64 }),
      (kids, bytes) => {
        const entries = kids.map((kid) => ({ kid, secret: secret(bytes) }))
        const value = entries.map((e) => `${e.kid}:${e.secret}`).join(',')
        const config = loadConfig({ ...keys, LINK_SECRETS: value })
        return JSON.stringify(config.linkSecrets) === JSON.stringify(entries)
      },
    ),
    { numRuns: 200 },
  )
  t.pass('round trip held')
})

t.test('property: a secret shorter than 32 bytes is always refused', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 31 }), (bytes) => {
      const value = `1:${Buffer.from(bytes).toString('base64url')}`
      return problemsOf({ ...keys, LINK_SECRETS: value }).some((p) => p.startsWith('LINK_SECRETS'))
    }),
  )
  t.pass('short secrets refused')
})

t.test('API_KEYS: the name hosted is reserved for the hosted pages', async (t) => {
  const hash = 'a'.repeat(64)
  t.same(problemsOf({ ...keys, API_KEYS: `hosted:service:${hash}` }), [
    'API_KEYS: the name hosted is reserved for the hosted pages; choose another name',
  ])
  t.ok(loadConfig({ ...keys, API_KEYS: `hosted-app:service:${hash}` }), 'only the exact name')
})

t.test('property: name:role:hash entries parse back', async (t) => {
  const entry = fc.record({
    name: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/).filter((n) => n !== 'hosted'),
    role: fc.constantFrom('service' as const, 'admin' as const, 'metrics' as const),
    hash: fc
      .uint8Array({ minLength: 32, maxLength: 32 })
      .map((b) => Buffer.from(b).toString('hex')),
  })
  fc.assert(
    // Names are unique: configuration refuses two keys under one name.
    fc.property(
      fc.uniqueArray(entry, { minLength: 1, maxLength: 5, selector: (e) => e.name }),
      (entries) => {
        const value = entries.map((e) => `${e.name}:${e.role}:${e.hash}`).join(',')
        const config = loadConfig({ ...keys, API_KEYS: value })
        return JSON.stringify(config.apiKeys) === JSON.stringify(entries)
      },
    ),
  )
  t.pass('round trip held')
})

t.test('property: numbers parse exactly, and only digits are numbers', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 65535 }),
      (port) => loadConfig({ ...keys, PORT: String(port) }).port === port,
    ),
  )
  fc.assert(
    fc.property(fc.string({ maxLength: 12 }), (value) => {
      fc.pre(!/^\s*\d+\s*$/.test(value) && value.trim() !== '')
      return problemsOf({ ...keys, SESSION_TTL: value }).some((p) => p.startsWith('SESSION_TTL'))
    }),
  )
  t.pass('numbers held')
})

t.test('HANDOFF selects how the hosted pages hand over a session', async (t) => {
  t.equal(loadConfig({ ...keys }).handoff, 'cookie', 'cookie by default')
  t.equal(loadConfig({ ...keys, HANDOFF: 'code' }).handoff, 'code')
  t.ok(
    problemsOf({ ...keys, HANDOFF: 'url' }).some((p) => p.startsWith('HANDOFF')),
    'anything else is named',
  )
})

const RATE_LIMITS = ['RATE_LIMIT_IP', 'RATE_LIMIT_API_KEY', 'RATE_LIMIT_RECIPIENT'] as const
const rateField = {
  RATE_LIMIT_IP: 'ip',
  RATE_LIMIT_API_KEY: 'apiKey',
  RATE_LIMIT_RECIPIENT: 'recipient',
}

t.test('RATE_LIMIT_*: count/window in s, m or h, or off', async (t) => {
  for (const name of RATE_LIMITS) {
    const rate = (value: string) =>
      loadConfig({ ...keys, [name]: value }).rateLimits[rateField[name] as 'ip']
    t.same(rate('10/30s'), { max: 10, windowSeconds: 30 }, `${name}: seconds`)
    t.same(rate('5/15m'), { max: 5, windowSeconds: 900 }, `${name}: minutes`)
    t.same(rate('100/2h'), { max: 100, windowSeconds: 7200 }, `${name}: hours`)
    t.same(rate('1/24h'), { max: 1, windowSeconds: 86400 }, `${name}: the longest window`)
    t.same(rate(' 7/1m '), { max: 7, windowSeconds: 60 }, `${name}: trimmed`)
    t.equal(rate('off'), null, `${name}: off`)
    t.equal(rate('OFF'), null, `${name}: OFF`)
    t.same(
      loadConfig({ ...keys, [name]: '' }).rateLimits,
      loadConfig(keys).rateLimits,
      `${name}: empty means the default`,
    )
  }
  const config = loadConfig({ ...keys, RATE_LIMIT_API_KEY: 'off' })
  t.same(config.rateLimits.ip, { max: 60, windowSeconds: 60 }, 'one off leaves the others on')
  t.same(config.rateLimits.recipient, { max: 5, windowSeconds: 900 })
})

t.test('RATE_LIMIT_*: bad values are refused, each naming its variable', async (t) => {
  for (const name of RATE_LIMITS) {
    for (const value of [
      '60',
      '60/',
      '/1m',
      '60/m',
      '60/1d',
      '60/1',
      '60/1.5m',
      '1.5/1m',
      '-1/1m',
      'sixty/1m',
      '60 / 1m',
      '60/1m,5/1h',
      'none',
      'false',
      '0/1m',
      '0/0s',
      '60/0s',
      '60/25h',
      '60/1441m',
      '2000000000/1m',
    ]) {
      refuses(t, { [name]: value }, name, `${name}=${value}`)
    }
  }
  const problems = problemsOf({ ...keys, RATE_LIMIT_IP: '0/1m', RATE_LIMIT_RECIPIENT: '5/1y' })
  t.same(
    problems,
    [
      'RATE_LIMIT_IP: the count is not 1 to 1000000000; set one in that range, or off',
      'RATE_LIMIT_RECIPIENT: "5/1y" is not a rate; set count/window, like 60/1m (s, m or h), or off',
    ],
    'every problem once, in words a person can act on',
  )
})

t.test('RATE_LIMIT_*_FILE reads the setting from a file', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'rate'), '3/1h\n')
  const config = loadConfig({ ...keys, RATE_LIMIT_RECIPIENT_FILE: join(dir, 'rate') })
  t.same(config.rateLimits.recipient, { max: 3, windowSeconds: 3600 })
})

t.test('property: count/window parses back exactly', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000_000_000 }),
      fc.constantFrom(['s', 1], ['m', 60], ['h', 3600]),
      fc.integer({ min: 1, max: 86400 }),
      (max, [unit, seconds], n) => {
        fc.pre(n * (seconds as number) <= 86400)
        const rate = loadConfig({ ...keys, RATE_LIMIT_IP: `${max}/${n}${unit}` }).rateLimits.ip
        return rate?.max === max && rate.windowSeconds === n * (seconds as number)
      },
    ),
  )
  t.pass('round trip held')
})

// Issue 9, item 14: a person reads these messages, not a validator's log.
t.test(
  'property: every message names its variable, in words, without validator noise',
  async (t) => {
    const patterns = [
      ...JSON.stringify(ConfigSchema).matchAll(/"pattern":"((?:[^"\\]|\\.)*)"/g),
    ].map((m) => JSON.parse(`"${m[1]}"`) as string)
    t.ok(patterns.length >= 4, 'the schema has patterns to look for')
    const noise = [
      /anyOf|oneOf|allOf/i,
      /must match/i,
      /must be (string|integer|number|boolean|array|object|equal|null)/i,
      /must (have|not have)/i,
      /constant|schema|pattern|properties/i,
      /minLength|maxLength|minimum|maximum|minItems/,
      /\/[a-z]+\/\d|#\//,
    ]
    const names = SETTINGS.filter((name) => name !== 'NODE_ENV')
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({
        unit: fc.constantFrom('1', ':', ',', '/', 'a', 'Z', '[', '{', '"', ' ', '-', '.', '='),
        maxLength: 40,
      }),
      fc.constantFrom('0', '-1', '1.5', '99999999999', 'true', 'off', '[]', '{}', '[1]', 'null'),
      fc
        .constantFrom(
          'https://',
          'http://',
          'redis://',
          'postgres://',
          '1:',
          '[{',
          'a:service:',
          '5/',
        )
        .chain((prefix) => fc.string({ maxLength: 30 }).map((s) => prefix + s)),
    )
    fc.assert(
      fc.property(fc.constantFrom(...names), value, (name, v) => {
        let problems: string[]
        try {
          loadConfig({ ...keys, [name]: v })
          return true
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error
          problems = error.problems
        }
        if (!problems.some((p) => new RegExp(`\\b${name}\\b`).test(p))) {
          throw new Error(`no problem names ${name}: ${JSON.stringify(problems)}`)
        }
        for (const problem of problems) {
          // What the message quotes of the value is the value's, not the validator's.
          const words = problem.replace(/"(?:[^"\\]|\\.)*"/g, '""')
          const heard = [
            ...noise.filter((n) => n.test(words)),
            ...patterns.filter((p) => words.includes(p)),
          ]
          if (heard.length > 0) throw new Error(`noise ${heard[0]} in: ${problem}`)
          if (!/^[A-Z_]+( and [A-Z_]+)?: .+; .+/.test(problem)) {
            throw new Error(`not "NAME: what is wrong; the fix": ${problem}`)
          }
        }
        return true
      }),
      { numRuns: 3000 },
    )
    t.pass('every message held')
  },
)

t.test('every setting of the schema has words for its problems', async (t) => {
  // A setting added to the schema without a row here would be reported in borrowed words.
  for (const name of SETTINGS.filter((n) => n !== 'NODE_ENV')) {
    const problems = (() => {
      try {
        loadConfig({ ...keys, [name]: '\u0001' })
        return []
      } catch (error) {
        return (error as ConfigError).problems
      }
    })()
    for (const problem of problems)
      t.notMatch(problem, /is not valid; see the configuration table/, name)
  }
})

t.test('AUDIT_RETENTION: a duration in d, h, m or s, 90 days by default', async (t) => {
  t.equal(loadConfig(keys).auditRetention, 90 * 86_400)
  for (const [value, seconds] of [
    ['30d', 30 * 86_400],
    ['12h', 12 * 3600],
    ['90m', 90 * 60],
    ['7200s', 7200],
    ['86400', 86_400],
  ] as const) {
    t.equal(loadConfig({ ...keys, AUDIT_RETENTION: value }).auditRetention, seconds, value)
  }
  for (const value of ['0', '59m', '1w', '-1d', '1.5d', 'forever', '3651d']) {
    refuses(t, { AUDIT_RETENTION: value }, 'AUDIT_RETENTION', value)
  }
})
