import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import t from 'tap'
import { ApiKeys } from '../src/auth/api-keys.js'
import { type Env, loadConfig } from '../src/config.js'
import { decodeToken } from '../src/tokens/codec.js'
import { childEnv } from './helpers/child-env.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PUBLIC_URL = 'http://login.test:8080'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

const cleanEnv = () => childEnv({}, { clean: true })

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Runs `latchkey …args` with DATA_DIR set to dataDir; resolves whatever the exit code. */
function cli(dataDir: string, args: string[], env: Env = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      {
        cwd: ROOT,
        env: { ...cleanEnv(), DATA_DIR: dataDir, LOG_LEVEL: 'silent', PUBLIC_URL, ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** VALUE of a `NAME=VALUE` line, with one level of shell single quotes removed. */
function assignment(stdout: string, name: string): string | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(`${name}=`))
  if (line === undefined) return undefined
  const value = line.slice(name.length + 1)
  return /^'[^']*'$/.test(value) ? value.slice(1, -1) : value
}

t.test('keys prints settings that a production configuration accepts together', async (t) => {
  const dataDir = tempDir(t)
  const run = await cli(dataDir, ['keys'])
  t.equal(run.code, 0, run.stderr)
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'production',
    MAIL_TRANSPORT: 'resend',
    RESEND_API_KEY: 're_test',
    MAIL_FROM: 'login@x.example',
    PUBLIC_URL: 'https://x.example',
    DATA_DIR: dataDir,
  }
  for (const name of ['LINK_SECRETS', 'SESSION_KEYS', 'API_KEYS']) {
    env[name] = assignment(run.stdout, name)
    t.ok(env[name], `${name}= is printed`)
  }
  const config = loadConfig(env)
  t.equal(config.production, true)
  t.equal(config.linkSecrets.length, 1)
  t.equal(config.sessionKeys.length, 1)
  t.equal(config.apiKeys[0]?.role, 'admin')

  // The admin key itself is printed once, as a comment, and is what API_KEYS admits.
  const key = run.stdout.match(/^# (lk_[A-Za-z0-9_-]+)$/m)?.[1]
  t.ok(key, 'the admin key is printed')
  t.same(new ApiKeys(config.apiKeys).authenticate(key ?? ''), { name: 'admin', role: 'admin' })
  t.notOk(env.API_KEYS?.includes(key ?? '-'), 'API_KEYS carries only the hash')

  t.same(readdirSync(dataDir), [], 'keys touches nothing in DATA_DIR')

  const again = await cli(dataDir, ['keys'])
  t.not(assignment(again.stdout, 'LINK_SECRETS'), env.LINK_SECRETS, 'fresh secrets each time')
})

t.test('link prints a sign-in URL under PUBLIC_URL', async (t) => {
  const dataDir = tempDir(t)
  const run = await cli(dataDir, ['link', 'someone@example.com'])
  t.equal(run.code, 0, run.stderr)
  const printed = run.stdout.trim()
  t.notMatch(printed, /\n/, 'one line')
  t.ok(printed.startsWith(`${PUBLIC_URL}/`), printed)
  const url = new URL(printed)
  t.equal(url.pathname, '/login/link')
  const token = url.searchParams.get('token') ?? ''
  t.match(token, /^[A-Za-z0-9_-]{64}$/, 'a 64-character token')
  t.notOk(printed.includes('lk_'), 'no API key on stdout')

  const redirected = await cli(dataDir, ['link', 'someone@example.com', '--redirect', '/welcome'])
  t.equal(redirected.code, 0, redirected.stderr)
  t.equal(new URL(redirected.stdout.trim()).searchParams.get('next'), '/welcome')
})

t.test('link refuses bad input with a message', async (t) => {
  const dataDir = tempDir(t)
  const offSite = await cli(dataDir, [
    'link',
    'someone@example.com',
    '--redirect',
    '//evil.example',
  ])
  t.equal(offSite.code, 1)
  t.match(offSite.stderr, /redirect_to/)
  t.equal(offSite.stdout, '')

  const badEmail = await cli(dataDir, ['link', 'not-an-address'])
  t.equal(badEmail.code, 1)
  t.match(badEmail.stderr, /email/i)

  const noEmail = await cli(dataDir, ['link'])
  t.equal(noEmail.code, 2)
  t.match(noEmail.stderr, /Usage: latchkey link/)
})

t.test('revoke ends a user, and an unknown id fails with a message', async (t) => {
  const dataDir = tempDir(t)
  const unknown = await cli(dataDir, ['revoke', '0190b5a4-7c3e-7d1a-9f0e-1a2b3c4d5e6f'])
  t.not(unknown.code, 0)
  t.not(unknown.code, null, 'an exit, not a crash by signal')
  t.match(unknown.stderr, /No user has this id/)
  t.notMatch(unknown.stderr, /\n\s+at /, 'a message, not a stack trace')

  const notAnId = await cli(dataDir, ['revoke', 'nobody'])
  t.not(notAnId.code, 0)
  t.notMatch(notAnId.stderr, /\n\s+at /, 'a message, not a stack trace')

  const link = await cli(dataDir, ['link', 'someone@example.com'])
  const token = new URL(link.stdout.trim()).searchParams.get('token') ?? ''
  const { userId } = decodeToken(token).fields
  const revoked = await cli(dataDir, ['revoke', userId])
  t.equal(revoked.code, 0, revoked.stderr)
  t.match(revoked.stdout, new RegExp(`Revoked user ${userId}; rev is now 1\\.`))
})

t.test('an unknown command exits 2 with the usage', async (t) => {
  const run = await cli(tempDir(t), ['frobnicate'])
  t.equal(run.code, 2)
  t.match(run.stderr, /Unknown command: frobnicate/)
  t.match(run.stderr, /Usage: latchkey <command>/)
  t.equal(run.stdout, '')
})
