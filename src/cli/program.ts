import { readFileSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import { type Locale, SHIPPED_LOCALES } from '../config/locale-settings.js'
import { bestLocale } from '../mail/locales/negotiate.js'

/** Where commander writes help, the version and usage errors (and run.ts its messages). */
export interface Output {
  writeOut(text: string): void
  writeErr(text: string): void
}

/**
 * The command line's grammar: every command, its arguments, options and help. What a command
 * does lives in its own file, imported only when it runs, so help, --version and usage errors
 * answer at once and can never read or print a secret. Commander prints help, the version and
 * usage errors itself; `exitOverride` hands its exits to run.ts, which returns the exit code.
 */
export function buildProgram(output: Output): Command {
  const program = new Command('latchkey')
    .description('Passwordless sign-in as a small service: magic links, session JWTs, revocation.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .exitOverride()
    .configureOutput(output)
    .addHelpText(
      'after',
      '\nWith no command, latchkey serves. Every command reads its configuration from the\n' +
        'environment, as the service does; see README.md.',
    )

  program
    .command('serve')
    .description('start the service (the default)')
    .action(async () => (await import('../server.js')).serve())

  program
    .command('keys')
    .description(
      'print fresh LINK_SECRETS, SESSION_KEYS and an admin API key with its API_KEYS entry',
    )
    .addOption(
      new Option('--alg <alg>', 'signing algorithm of the session key')
        .choices(['ES256', 'EdDSA'])
        .default('ES256'),
    )
    .addHelpText(
      'after',
      '\nNothing is written anywhere. Rotating? Put the new entries first and keep the old ones\n' +
        'after them (README.md, "Rotating keys"); the new LINK_SECRETS kid avoids those in use.',
    )
    .action(async (options) => (await import('./keys.js')).keys(options))

  program
    .command('link')
    .description('issue a sign-in link from the shell and print it (the user is created if new)')
    .argument('<email>', 'whom the link signs in')
    .option('--ttl <seconds>', 'how long it stays valid (default LINK_TTL)', seconds)
    .option(
      '--redirect <target>',
      'where to go after signing in (a path, or an ALLOWED_REDIRECTS origin)',
    )
    .option('--send', 'email it through MAIL_TRANSPORT instead of printing it')
    .action(async (email, options) => (await import('./link.js')).link(email, options))

  program
    .command('revoke')
    .description('end every link, refresh token and session of a user')
    .argument('<user-id>', "the user's id (a UUID)")
    .action(async (userId) => (await import('./revoke.js')).revoke(userId))

  program
    .command('audit')
    .description("print a user's audit trail, newest first")
    .requiredOption('--user <user-id>', "the user's id (a UUID)")
    .option('--type <type>', 'only events of this type, or of a family (session.*)')
    .option('--limit <count>', 'how many events at most (default 50)', count)
    .action(async (options) => (await import('./audit.js')).audit(options))

  program
    .command('migrate')
    .description('apply database migrations and exit (the service also applies them at start)')
    .action(async () => (await import('./migrate.js')).migrate())

  program
    .command('mail')
    .description('email tools for designers')
    .command('preview')
    .description(
      'print the sign-in email as latchkey would send it (APP_NAME, PUBLIC_URL, LINK_TTL, TEMPLATES_DIR, BRAND_COLOR, LOGO_FILE); needs no keys and no database',
    )
    .option('--out <file>', 'write its HTML part to <file> instead', file)
    .option(
      '--locale <tag>',
      `its language: ${SHIPPED_LOCALES.join(', ')} (default DEFAULT_LOCALE, else en)`,
      locale,
    )
    .action(async (options) => (await import('./mail-preview.js')).mailPreview(options))

  for (const command of withSubcommands(program)) {
    command.showHelpAfterError(`(run '${path(command)} --help' for usage)`)
  }
  return program
}

function seconds(value: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(value)) {
    throw new InvalidArgumentError('Give a whole number of seconds.')
  }
  return Number(value)
}

function count(value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) {
    throw new InvalidArgumentError('Give a whole number from 1 to 9999.')
  }
  return Number(value)
}

function locale(value: string): Locale {
  const match = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,6}$/.test(value)
    ? bestLocale(value, SHIPPED_LOCALES)
    : undefined
  if (match === undefined)
    throw new InvalidArgumentError(`Give one of ${SHIPPED_LOCALES.join(', ')}.`)
  return match
}

function file(value: string): string {
  if (value === '') throw new InvalidArgumentError('Give a file name.')
  return value
}

/** package.json sits beside src/ and dist/ alike (and in the Docker image). */
function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
  return (JSON.parse(text) as { version: string }).version
}

function* withSubcommands(command: Command): Generator<Command> {
  yield command
  for (const sub of command.commands) yield* withSubcommands(sub)
}

function path(command: Command): string {
  return command.parent ? `${path(command.parent)} ${command.name()}` : command.name()
}
