#!/usr/bin/env node
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { buildDeps } from './app.js'
import { generateApiKey } from './auth/api-keys.js'
import type { AuthDeps } from './auth/deps.js'
import { issueLink } from './auth/issue-link.js'
import { OutboxWorker } from './auth/outbox-worker.js'
import { revokeUser } from './auth/revoke.js'
import { LatchkeyError } from './errors.js'
import type { MailMessage } from './mail/mailer.js'
import { linkMessage } from './mail/templates/link.js'
import { configFromEnv, serve } from './server.js'
import { generateSessionKey } from './sessions/jwt.js'

const USAGE = `Usage: latchkey <command>

Commands:
  serve                      start the service (the default)
  keys                       print fresh LINK_SECRETS, SESSION_KEYS and an admin API key
  link <email> [options]     issue a sign-in link from the shell and print it
      --ttl <seconds>        how long it stays valid (default LINK_TTL)
      --redirect <target>    where to go after signing in
      --send                 email it through MAIL_TRANSPORT instead of printing it
  revoke <user-id>           end every link, refresh token and session of a user
  migrate                    apply database migrations and exit
  mail preview [options]     print a sample sign-in email (APP_NAME, PUBLIC_URL, LINK_TTL);
                             needs no keys and no database
      --out <file>           write its HTML part to <file> instead

Configuration comes from the environment; see README.md.
`

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv
  switch (command) {
    case 'serve':
      return serve()
    case 'keys':
      return printKeys()
    case 'link':
      return link(rest)
    case 'revoke':
      return revoke(rest)
    case 'migrate':
      return migrate()
    case 'mail':
      return mail(rest)
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return
    default:
      process.stderr.write(`Unknown command: ${command}\n\n${USAGE}`)
      process.exitCode = 2
  }
}

async function printKeys(): Promise<void> {
  const kid = new Date().toISOString().slice(0, 10)
  const admin = generateApiKey('admin', 'admin')
  const lines = [
    `LINK_SECRETS=1:${randomBytes(32).toString('base64url')}`,
    `SESSION_KEYS=${JSON.stringify([await generateSessionKey({ kid: kid })])}`,
    `API_KEYS=${admin.entry}`,
    '',
    `# The admin API key that API_KEYS admits (store it; only its hash is configured):`,
    `# ${admin.key}`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

async function withDeps<T>(fn: (deps: AuthDeps) => Promise<T>): Promise<T> {
  const deps = await buildDeps(await configFromEnv())
  try {
    return await fn(deps)
  } finally {
    await deps.store.close()
  }
}

async function link(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ttl: { type: 'string' },
      redirect: { type: 'string' },
      send: { type: 'boolean', default: false },
    },
  })
  const email = positionals[0]
  if (!email || positionals.length > 1) throw new UsageError('latchkey link <email> [options]')
  const issued = await withDeps(async (deps) => {
    const result = await issueLink(deps, {
      email,
      redirectTo: values.redirect,
      ttlSeconds: values.ttl === undefined ? undefined : Number(values.ttl),
      deliver: values.send ? 'email' : 'none',
      createUser: true,
    })
    // Through the outbox like every email: sent now, or left for the service to retry.
    if (values.send) await new OutboxWorker(deps, stderrLogger).runOnce()
    return result
  })
  process.stdout.write(
    issued.link === undefined
      ? `Queued for ${email} (user ${issued.userId}); see GET /v1/admin/outbox for its delivery.\n`
      : `${issued.link}\n`,
  )
}

const stderrLogger = {
  info: () => undefined,
  warn: (_fields: object, message: string) => void process.stderr.write(`${message}\n`),
  error: (_fields: object, message: string) => void process.stderr.write(`${message}\n`),
}

async function revoke(args: string[]): Promise<void> {
  const [userId] = args
  if (!userId || args.length > 1) throw new UsageError('latchkey revoke <user-id>')
  const result = await withDeps((deps) => revokeUser(deps, userId.toLowerCase()))
  process.stdout.write(`Revoked user ${result.userId}; rev is now ${result.rev}.\n`)
}

async function migrate(): Promise<void> {
  await withDeps((deps) => deps.store.migrate())
  process.stdout.write('Migrations are up to date.\n')
}

async function mail(args: string[]): Promise<void> {
  const usage = 'latchkey mail preview [--out <file>]'
  const [subcommand, ...rest] = args
  if (subcommand !== 'preview') throw new UsageError(usage)
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { out: { type: 'string' } },
  })
  if (positionals.length > 0 || values.out === '') throw new UsageError(usage)
  const message = previewMessage(process.env)
  if (message === undefined) {
    process.stderr.write('LINK_TTL: must be a whole number of seconds\n')
    process.exitCode = 1
    return
  }
  if (values.out !== undefined) {
    writeFileSync(values.out, message.html)
    process.stdout.write(`Wrote the HTML part of "${message.subject}" to ${values.out}.\n`)
    return
  }
  process.stdout.write(
    [
      `To: ${message.to}`,
      `Subject: ${message.subject}`,
      '',
      '--- text/plain ---',
      message.text.trimEnd(),
      '',
      '--- text/html ---',
      message.html.trimEnd(),
      '',
    ].join('\n'),
  )
}

/**
 * A sample of the sign-in email for designers. Only the three settings the email shows are read,
 * directly: loading the whole configuration would demand (or generate) keys and a data directory,
 * and the sample token is a fixed placeholder, minted with no secret.
 */
function previewMessage(env: NodeJS.ProcessEnv): MailMessage | undefined {
  const setting = (name: string) => env[name]?.trim() || undefined
  const publicUrl = (setting('PUBLIC_URL') ?? 'http://localhost:3000').replace(/\/+$/, '')
  const ttl = setting('LINK_TTL') ?? '900'
  if (!/^[1-9][0-9]*$/.test(ttl)) return undefined
  // Token-shaped (48 bytes, 64 characters) so the sample wraps like a real link; it verifies nowhere.
  const token = Buffer.from('latchkey mail preview: this is not a real token!')
  return linkMessage({
    to: 'someone@example.com',
    link: `${publicUrl}/login/link?token=${token.toString('base64url')}`,
    appName: setting('APP_NAME') ?? 'latchkey',
    ttlSeconds: Number(ttl),
    oneTime: true,
  })
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`Usage: ${error.message}\n`)
    process.exitCode = 2
  } else if (error instanceof LatchkeyError) {
    process.stderr.write(`${error.message}\n`)
    process.exitCode = 1
  } else {
    throw error
  }
})
