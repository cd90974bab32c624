import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { generateApiKey } from '../src/auth/api-keys.js'
import { type Env, loadConfig } from '../src/config/index.js'
import { generateSessionKey } from '../src/sessions/jwt.js'
import { configProblems } from './helpers/config.js'
import { tempDir } from './helpers/temp.js'

const keys: Env = {
  LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
  SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 's1' })]),
  API_KEYS: generateApiKey('svc', 'service').entry,
}
const PASSWORD = 'hunter2-relay-Pa55'
const URL_WITH_PASSWORD = `smtp://mailer:${PASSWORD}@relay.acme.example:587`

const production: Env = {
  ...keys,
  NODE_ENV: 'production',
  MAIL_TRANSPORT: 'smtp',
  SMTP_URL: URL_WITH_PASSWORD,
  MAIL_FROM: 'Acme <login@acme.example>',
  PUBLIC_URL: 'https://login.example',
}

const problemsOf = (env: Env): string[] =>
  configProblems(() => loadConfig({ ...keys, ...env }), JSON.stringify(env))

t.test('MAIL_TRANSPORT=smtp with SMTP_URL and MAIL_FROM loads, in production too', async (t) => {
  const config = loadConfig(production)
  t.equal(config.mail.transport, 'smtp')
  t.equal(config.mail.smtpUrl, URL_WITH_PASSWORD, 'kept as written, for nodemailer to read')
  t.equal(config.mail.from, 'Acme <login@acme.example>')
  for (const url of [
    'smtps://mailer:p%40ss%2Fword@smtp.acme.example:465',
    'smtp://relay.internal',
    'smtp://127.0.0.1:2525/',
    'smtp://[::1]:25',
    'smtp://relay.internal:587?requireTLS=true',
  ]) {
    t.equal(loadConfig({ ...keys, MAIL_TRANSPORT: 'smtp', SMTP_URL: url }).mail.smtpUrl, url, url)
  }
})

t.test('MAIL_TRANSPORT=smtp without SMTP_URL is refused, saying what to set', async (t) => {
  t.same(problemsOf({ MAIL_TRANSPORT: 'smtp' }), [
    'SMTP_URL: missing, and MAIL_TRANSPORT=smtp needs it; set smtp://user:pass@host:587 or smtps://user:pass@host:465',
  ])
  t.equal(loadConfig({ ...keys, SMTP_URL: URL_WITH_PASSWORD }).mail.transport, 'log', 'unused')
})

t.test('production wants MAIL_FROM with smtp, as with resend', async (t) => {
  t.same(problemsOf({ ...production, MAIL_FROM: undefined }), [
    'MAIL_FROM: missing, and production needs it with smtp; set an address your relay lets latchkey send as',
  ])
  t.same(problemsOf({ ...production, MAIL_TRANSPORT: undefined }), [
    'MAIL_TRANSPORT: missing, and production needs it; set resend or smtp',
  ])
})

t.test('a bad SMTP_URL is refused without repeating it: it may hold a password', async (t) => {
  for (const url of [
    `https://mailer:${PASSWORD}@relay.acme.example`,
    `smtp://mailer:${PASSWORD}@`,
    `smtp://mailer:${PASSWORD}@relay.acme.example/path`,
    `smtp://mailer:${PASSWORD}@relay acme.example`,
    `relay.acme.example:587 ${PASSWORD}`,
  ]) {
    const problems = problemsOf({ MAIL_TRANSPORT: 'smtp', SMTP_URL: url })
    t.same(
      problems,
      [
        'SMTP_URL: the value is not an SMTP URL; set smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465, the user and password percent-encoded',
      ],
      url,
    )
    t.notOk(problems.join('\n').includes(PASSWORD), 'the password is not repeated')
  }
})

t.test('SMTP_URL_FILE reads the URL from a mounted file, like other secrets', async (t) => {
  const file = join(tempDir(t), 'smtp-url')
  writeFileSync(file, `${URL_WITH_PASSWORD}\n`)
  const config = loadConfig({ ...production, SMTP_URL: undefined, SMTP_URL_FILE: file })
  t.equal(config.mail.smtpUrl, URL_WITH_PASSWORD, 'trailing newline removed')
  t.same(problemsOf({ ...production, SMTP_URL_FILE: file }), [
    'SMTP_URL and SMTP_URL_FILE are both set; set only one',
  ])
  writeFileSync(file, `smtp://mailer:${PASSWORD}@\n`)
  const problems = problemsOf({ ...production, SMTP_URL: undefined, SMTP_URL_FILE: file })
  t.match(problems, [/^SMTP_URL: the value is not an SMTP URL/])
  t.notOk(problems.join('\n').includes(PASSWORD), 'nor from the file')
})
