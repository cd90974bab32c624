import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { generateApiKey } from '../src/auth/api-keys.js'
import { generateSessionKey } from '../src/sessions/jwt.js'
import { childEnv, run } from './helpers/process.js'
import { tempDir } from './helpers/temp.js'

// An instance loads the driver, client and library of what its configuration uses, and no other:
// each costs memory for as long as the process lives. Checked in a fresh process, which records
// every module it resolves, since the test process itself has loaded everything already.

const OPTIONAL = [
  'pg',
  'ioredis',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  'nodemailer',
  'resend',
]

const base = {
  PUBLIC_URL: 'https://login.example.test',
  LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
  SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 'lazy' })]),
  API_KEYS: generateApiKey('svc', 'service').entry,
  LOG_LEVEL: 'silent',
  MAIL_FROM: 'Latchkey <login@example.test>',
}

async function loadedPackages(t: Test, settings: Record<string, string>): Promise<string[]> {
  const dir = tempDir(t)
  const ran = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/helpers/loaded-packages.ts',
      JSON.stringify({ ...base, DATA_DIR: dir, ...settings }),
      join(dir, 'resolved.txt'),
    ],
    { env: childEnv({}, { clean: true }) },
  )
  t.equal(ran.code, 0, ran.stderr)
  return JSON.parse(ran.stdout)
}

t.test('SQLite, no Redis, docs off, mail to the log: no optional package', async (t) => {
  const loaded = await loadedPackages(t, { DOCS: 'off', MAIL_TRANSPORT: 'log' })
  // What the configuration does use is seen: the recording works.
  t.ok(loaded.includes('better-sqlite3'), 'the SQLite driver')
  t.same(
    OPTIONAL.filter((name) => loaded.includes(name)),
    [],
    'none loaded',
  )
})

t.test('each optional package with the setting that uses it, and only then', async (t) => {
  // Nothing listens on port 1: the store and the counters are built, never connected.
  const loaded = await loadedPackages(t, {
    DATABASE_URL: 'postgres://latchkey@127.0.0.1:1/latchkey',
    REDIS_URL: 'redis://127.0.0.1:1',
    DOCS: 'on',
    MAIL_TRANSPORT: 'smtp',
    SMTP_URL: 'smtp://127.0.0.1:1',
  })
  t.same(
    OPTIONAL.filter((name) => loaded.includes(name)),
    ['pg', 'ioredis', '@fastify/swagger', '@fastify/swagger-ui', 'nodemailer'],
    'each loaded by its setting',
  )
  t.notOk(loaded.includes('better-sqlite3'), 'no SQLite driver on PostgreSQL')

  const resend = await loadedPackages(t, { MAIL_TRANSPORT: 'resend', RESEND_API_KEY: 're_test' })
  t.ok(resend.includes('resend'), 'the Resend SDK with MAIL_TRANSPORT=resend')
  t.notOk(resend.includes('nodemailer'), 'and not nodemailer')
})
