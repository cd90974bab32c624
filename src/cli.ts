#!/usr/bin/env node
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { buildDeps } from './app.js'
import { generateApiKey } from './auth/api-keys.js'
import type { AuthDeps } from './auth/deps.js'
import { issueLink } from './auth/issue-link.js'
import { revokeUser } from './auth/revoke.js'
import { LatchkeyError } from './errors.js'
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
    `SESSION_KEYS=${JSON.stringify([await generateSessionKey(kid)])}`,
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
  const issued = await withDeps((deps) =>
    issueLink(deps, {
      email,
      redirectTo: values.redirect,
      ttlSeconds: values.ttl === undefined ? undefined : Number(values.ttl),
      deliver: values.send ? 'email' : 'none',
      createUser: true,
    }),
  )
  process.stdout.write(
    issued.link === undefined ? `Sent to ${email} (user ${issued.userId}).\n` : `${issued.link}\n`,
  )
}

async function revoke(args: string[]): Promise<void> {
  const [userId] = args
  if (!userId || args.length > 1) throw new UsageError('latchkey revoke <user-id>')
  const result = await withDeps((deps) => revokeUser(deps, userId.toLowerCase()))
  process.stdout.write(`Revoked user ${result.userId}; rev is now ${result.rev}.\n`)
}

async function migrate(): Promise<void> {
  // Opening the store applies pending migrations.
  await withDeps(async () => undefined)
  process.stdout.write('Migrations are up to date.\n')
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
