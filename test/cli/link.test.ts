import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { DEV_SECRETS_FILE, withDevSecrets } from '../../src/dev-secrets.js'
import { decodeToken } from '../../src/tokens/codec.js'
import { runCli, secretsEnv } from '../helpers/cli.js'
import { tempDir } from '../helpers/temp.js'

const PUBLIC_URL = 'http://login.test:8080'
const STACK = /\n\s+at /

/** Runs `latchkey …args` with DATA_DIR set to dataDir. */
const cli = (dataDir: string, args: string[], env: Record<string, string> = {}) =>
  runCli(args, { DATA_DIR: dataDir, LOG_LEVEL: 'silent', PUBLIC_URL, ...env })

t.test('on an empty DATA_DIR, link generates nothing and says what to do', async (t) => {
  const dataDir = join(tempDir(t), 'data')
  const run = await cli(dataDir, ['link', 'someone@example.com'])
  t.equal(run.code, 1)
  t.equal(run.stdout, '', 'no link')
  t.match(run.stderr, /LINK_SECRETS, SESSION_KEYS, API_KEYS: not set/)
  t.match(run.stderr, /start the service once with this DATA_DIR \(`latchkey serve`\)/)
  t.match(run.stderr, /`latchkey keys`/)
  t.notMatch(run.stderr, /lk_/, 'no API key')
  t.notMatch(run.stderr, STACK)
  t.notOk(existsSync(dataDir), 'no file appears: DATA_DIR is not even created')
})

t.test('link uses the development secrets the service stored in DATA_DIR', async (t) => {
  const dataDir = tempDir(t)
  // What the first `latchkey serve` leaves behind.
  const { env } = await withDevSecrets({}, dataDir)
  const file = join(dataDir, DEV_SECRETS_FILE)
  const before = readFileSync(file, 'utf8')
  const run = await cli(dataDir, ['link', 'someone@example.com'])
  t.equal(run.code, 0, run.stderr)
  t.notMatch(run.stdout + run.stderr, /lk_/, 'no API key printed')
  t.equal(readFileSync(file, 'utf8'), before, 'the stored secrets are unchanged')
  const token = new URL(run.stdout.trim()).searchParams.get('token') ?? ''
  t.equal(decodeToken(token).fields.kid, Number(env.LINK_SECRETS?.split(':')[0]), 'signed by it')
})

t.test('link prints a sign-in URL under PUBLIC_URL', async (t) => {
  const dataDir = tempDir(t)
  const env = await secretsEnv()
  const run = await cli(dataDir, ['link', 'someone@example.com'], env)
  t.equal(run.code, 0, run.stderr)
  const printed = run.stdout.trim()
  t.notMatch(printed, /\n/, 'one line')
  t.ok(printed.startsWith(`${PUBLIC_URL}/`), printed)
  const url = new URL(printed)
  t.equal(url.pathname, '/login/link')
  const token = url.searchParams.get('token') ?? ''
  t.match(token, /^[A-Za-z0-9_-]{64}$/, 'a 64-character token')
  t.notOk(printed.includes('lk_'), 'no API key on stdout')
  t.notOk(existsSync(join(dataDir, DEV_SECRETS_FILE)), 'no development secrets written')

  const options = ['--redirect', '/welcome', '--ttl', '60']
  const redirected = await cli(dataDir, ['link', 'someone@example.com', ...options], env)
  t.equal(redirected.code, 0, redirected.stderr)
  const next = new URL(redirected.stdout.trim())
  t.equal(next.searchParams.get('next'), '/welcome')
  const { expiresAt } = decodeToken(next.searchParams.get('token') ?? '').fields
  t.ok(expiresAt <= Date.now() / 1000 + 60, '--ttl is honoured')
})

t.test('link refuses bad input with a message', async (t) => {
  const dataDir = tempDir(t)
  const env = await secretsEnv()
  const [offSite, tooLong] = await Promise.all([
    cli(dataDir, ['link', 'someone@example.com', '--redirect', '//evil.example'], env),
    cli(dataDir, ['link', 'someone@example.com', '--ttl', '999999'], env),
  ])
  t.equal(offSite.code, 1)
  t.match(offSite.stderr, /redirect_to/)
  t.equal(tooLong.code, 1)
  t.match(tooLong.stderr, /ttl/)
  for (const run of [offSite, tooLong]) {
    t.equal(run.stdout, '')
    t.notMatch(run.stderr, STACK)
  }
})

t.test('link --send emails it through MAIL_TRANSPORT and prints no link of its own', async (t) => {
  const dataDir = tempDir(t)
  const run = await cli(dataDir, ['link', 'someone@example.com', '--send'], {
    ...(await secretsEnv()),
    MAIL_TRANSPORT: 'log',
  })
  t.equal(run.code, 0, run.stderr)
  // The log transport prints the email, link included, which is what it is for.
  t.match(run.stdout, /^To: someone@example\.com$/m)
  t.match(
    run.stdout,
    /\nQueued for someone@example\.com \(user [0-9a-f-]{36}\); see GET \/v1\/admin\/outbox/,
  )
})
