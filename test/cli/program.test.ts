import { readFileSync } from 'node:fs'
import t from 'tap'
import { run } from '../../src/cli/run.js'

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

/** `latchkey …args` in this process, with what it writes. Only for runs that start no action. */
async function latchkey(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await run(args, {
    writeOut: (text) => {
      out += text
    },
    writeErr: (text) => {
      err += text
    },
  })
  return { code, out, err }
}

t.test('the overview lists every command', async (t) => {
  const { code, out, err } = await latchkey('--help')
  t.equal(code, 0)
  t.equal(err, '')
  t.match(out, /^Usage: latchkey \[options\] \[command\]\n/)
  for (const name of ['serve', 'keys', 'link', 'revoke', 'migrate', 'mail', 'help']) {
    t.match(out, new RegExp(`\\n  ${name}\\b`), name)
  }
  t.match(out, /-v, --version/)
  t.match(out, /With no command, latchkey serves\./)
})

t.test('each command has its own help', async (t) => {
  const expected: Record<string, RegExp[]> = {
    serve: [/start the service/],
    keys: [
      /--alg <alg>\s+signing algorithm of the session key \(choices: "ES256", "EdDSA",\s+default: "ES256"\)/,
      /Rotating\?/,
    ],
    link: [/Arguments:\n {2}email /, /--ttl <seconds>/, /--redirect <target>/, /--send /],
    revoke: [/Arguments:\n {2}user-id /],
    migrate: [/apply database migrations/],
    mail: [/\n {2}preview \[options\] /],
    'mail preview': [/--out <file>/, /needs no keys/],
  }
  for (const [command, patterns] of Object.entries(expected)) {
    const { code, out, err } = await latchkey(...command.split(' '), '--help')
    t.equal(code, 0, command)
    t.equal(err, '')
    t.match(out, new RegExp(`^Usage: latchkey ${command} `), command)
    for (const pattern of patterns) t.match(out, pattern, command)
  }
  t.same(await latchkey('help', 'link'), await latchkey('link', '--help'), '`help link` too')
  t.same(await latchkey('link', '-h'), await latchkey('link', '--help'), '`-h` too')
})

t.test('--version and -v print the version of package.json', async (t) => {
  for (const flag of ['--version', '-v']) {
    t.same(await latchkey(flag), { code: 0, out: `${VERSION}\n`, err: '' })
  }
})

t.test('usage mistakes: exit 2, what was wrong on one line, and where to read more', async (t) => {
  const cases: [string[], string, string][] = [
    [['frobnicate'], "unknown command 'frobnicate'", 'latchkey'],
    [['--frob'], "unknown option '--frob'", 'latchkey'],
    [['link', '--frob', 'a@example.com'], "unknown option '--frob'", 'latchkey link'],
    [
      ['link', '--tll', '5', 'a@example.com'],
      "unknown option '--tll'\n(Did you mean --ttl?)",
      'latchkey link',
    ],
    [['keys', '--send'], "unknown option '--send'", 'latchkey keys'],
    [['serve', '--port', '80'], "unknown option '--port'", 'latchkey serve'],
    [['link'], "missing required argument 'email'", 'latchkey link'],
    [
      ['link', 'a@example.com', 'b@example.com'],
      "too many arguments for 'link'. Expected 1 argument but got 2.",
      'latchkey link',
    ],
    [
      ['link', 'a@example.com', '--redirect'],
      "option '--redirect <target>' argument missing",
      'latchkey link',
    ],
    [
      ['link', 'a@example.com', '--ttl', 'soon'],
      "option '--ttl <seconds>' argument 'soon' is invalid. Give a whole number of seconds.",
      'latchkey link',
    ],
    [
      ['link', 'a@example.com', '--ttl', '-5'],
      "option '--ttl <seconds>' argument '-5' is invalid. Give a whole number of seconds.",
      'latchkey link',
    ],
    [
      ['keys', '--alg', 'RS256'],
      "option '--alg <alg>' argument 'RS256' is invalid. Allowed choices are ES256, EdDSA.",
      'latchkey keys',
    ],
    [['revoke'], "missing required argument 'user-id'", 'latchkey revoke'],
    [
      ['migrate', 'now'],
      "too many arguments for 'migrate'. Expected 0 arguments but got 1.",
      'latchkey migrate',
    ],
    [['mail', 'send'], "unknown command 'send'", 'latchkey mail'],
    [
      ['mail', 'preview', '--out', ''],
      "option '--out <file>' argument '' is invalid. Give a file name.",
      'latchkey mail preview',
    ],
  ]
  for (const [args, message, command] of cases) {
    t.same(
      await latchkey(...args),
      { code: 2, out: '', err: `error: ${message}\n(run '${command} --help' for usage)\n` },
      args.join(' '),
    )
  }
})

t.test('a command group without its subcommand shows its help, as a mistake', async (t) => {
  const { code, out, err } = await latchkey('mail')
  t.equal(code, 2)
  t.equal(out, '')
  t.match(err, /^Usage: latchkey mail \[options\] \[command\]\n[\s\S]*\n {2}preview /)
})

t.test('a failure of the world is one line, exit 1', async (t) => {
  const { code, out, err } = await latchkey('mail', 'preview', '--out', '/nonexistent/dir/x.html')
  t.equal(code, 1)
  t.equal(out, '')
  t.equal(err, "latchkey: ENOENT: no such file or directory, open '/nonexistent/dir/x.html'\n")
})
