import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import { generateApiKey } from '../src/auth/api-keys.js'
import { type Env, loadConfig } from '../src/config/index.js'
import { ConfigError } from '../src/errors.js'
import { generateSessionKey } from '../src/sessions/jwt.js'
import { configProblems } from './helpers/config.js'
import { tempDir } from './helpers/temp.js'

const keys: Env = {
  LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
  SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 's1' })]),
  API_KEYS: generateApiKey('svc', 'service').entry,
}
const secret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`

const problemsOf = (env: Env): string[] =>
  configProblems(() => loadConfig({ ...keys, ...env }), JSON.stringify(env))

t.test('off unless WEBHOOK_URLS is set; the default event types', async (t) => {
  t.same(loadConfig(keys).webhooks, {
    urls: [],
    secret: undefined,
    events: ['user.*', 'session.ended', 'email.bounced', 'email.complained'],
  })
})

t.test('https receivers, a whsec_ secret and chosen event types', async (t) => {
  const key = secret()
  const config = loadConfig({
    ...keys,
    WEBHOOK_URLS: 'https://a.example/hooks, https://b.example/in?channel=auth',
    WEBHOOK_SECRET: key,
    WEBHOOK_EVENTS: 'session.*, user.revoked,*',
  })
  t.same(config.webhooks, {
    urls: ['https://a.example/hooks', 'https://b.example/in?channel=auth'],
    secret: key,
    events: ['session.*', 'user.revoked', '*'],
  })
})

t.test('http only to this machine, and never in production', async (t) => {
  const key = secret()
  for (const url of ['http://localhost:4000/h', 'http://127.0.0.1:9/h', 'http://[::1]:9/h']) {
    t.same(loadConfig({ ...keys, WEBHOOK_URLS: url, WEBHOOK_SECRET: key }).webhooks.urls, [url])
    const production = problemsOf({
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://login.example',
      MAIL_TRANSPORT: 'resend',
      RESEND_API_KEY: 're_x',
      MAIL_FROM: 'a@b.example',
      WEBHOOK_URLS: url,
      WEBHOOK_SECRET: key,
    })
    t.same(production, [
      `WEBHOOK_URLS: ${url} is not https, which production needs; use the receiver's https:// URL`,
    ])
  }
  for (const url of [
    'http://hooks.example/h',
    'http://10.0.0.1/h',
    'ftp://hooks.example/',
    'https://user:pass@hooks.example/h',
    'https://hooks.example/h#frag',
    'hooks.example/h',
    'HTTPS://hooks.example/h',
  ]) {
    const problems = problemsOf({ WEBHOOK_URLS: url, WEBHOOK_SECRET: key })
    t.match(problems, [/^WEBHOOK_URLS: .* is not a webhook URL; list https:\/\/ URLs/], url)
  }
  t.match(
    problemsOf({ WEBHOOK_URLS: 'https://a.example/h,https://a.example/h', WEBHOOK_SECRET: key }),
    [/^WEBHOOK_URLS: https:\/\/a.example\/h is listed twice/],
  )
})

t.test('WEBHOOK_SECRET is required with receivers, and must be a real key', async (t) => {
  const url = 'https://hooks.example/in'
  t.match(problemsOf({ WEBHOOK_URLS: url }), [
    /^WEBHOOK_SECRET: missing, and WEBHOOK_URLS needs it to sign webhooks; generate one with/,
  ])
  const refused: [string, RegExp][] = [
    [randomBytes(32).toString('base64'), /is not a webhook secret; use whsec_ and base64/],
    ['whsec_', /is not a webhook secret/],
    ['whsec_not base64!', /is not a webhook secret/],
    [secret(16), /holds 16 bytes, not 24 to 64/],
    [secret(65), /holds 65 bytes, not 24 to 64/],
    [`whsec_${Buffer.alloc(32).toString('base64')}`, /takes only 1 distinct byte value/],
    [
      `whsec_${Buffer.from('The quick brown fox jumps over the lazy dog').toString('base64')}`,
      /is text/,
    ],
    [`${secret(32).slice(0, -2)}B=`, /not in canonical base64/],
  ]
  for (const [value, problem] of refused) {
    const problems = problemsOf({ WEBHOOK_URLS: url, WEBHOOK_SECRET: value })
    t.match(problems, [problem], value)
    const raw = value.slice('whsec_'.length)
    if (raw.length > 4) t.notOk(problems.join('\n').includes(raw), 'the secret is not repeated')
  }
  t.equal(loadConfig({ ...keys, WEBHOOK_SECRET: secret(24) }).webhooks.urls.length, 0, '24 bytes')
  t.type(loadConfig({ ...keys, WEBHOOK_URLS: url, WEBHOOK_SECRET: secret(64) }), 'object')
})

t.test('WEBHOOK_SECRET_FILE reads the secret from a file', async (t) => {
  const key = secret()
  const file = join(tempDir(t), 'webhook-secret')
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  const config = loadConfig({
    ...keys,
    WEBHOOK_URLS: 'https://hooks.example/in',
    WEBHOOK_SECRET_FILE: file,
  })
  t.equal(config.webhooks.secret, key)
})

t.test('WEBHOOK_EVENTS: exact types or prefix.*, each bad one named', async (t) => {
  t.same(problemsOf({ WEBHOOK_EVENTS: 'user.*,User.Revoked,session.*.x,.*,user.' }), [
    'WEBHOOK_EVENTS: "User.Revoked" is not an event type or prefix.*; list event types (session.ended) or prefixes (user.*), comma-separated',
    'WEBHOOK_EVENTS: "session.*.x" is not an event type or prefix.*; list event types (session.ended) or prefixes (user.*), comma-separated',
    'WEBHOOK_EVENTS: ".*" is not an event type or prefix.*; list event types (session.ended) or prefixes (user.*), comma-separated',
    'WEBHOOK_EVENTS: "user." is not an event type or prefix.*; list event types (session.ended) or prefixes (user.*), comma-separated',
  ])
  t.match(problemsOf({ WEBHOOK_EVENTS: ' , ' }), [/^WEBHOOK_EVENTS: /], 'an empty list')
})

t.test('property: any WEBHOOK_* values give a Config or a ConfigError', async (t) => {
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.string(), (urls, key, events) => {
      try {
        loadConfig({ ...keys, WEBHOOK_URLS: urls, WEBHOOK_SECRET: key, WEBHOOK_EVENTS: events })
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error
      }
    }),
  )
  t.pass('never anything else')
})
