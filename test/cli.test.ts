import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { runCli } from './helpers/cli.js'
import { tempDir } from './helpers/temp.js'

/*
 * The real `latchkey` process: exit codes, and that help never reads, writes or prints a secret.
 * What each help and message says is checked in-process, in test/cli/program.test.ts.
 */

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

const STACK = /\n\s+at /

t.test('help exits 0, prints no secret and writes nothing', async (t) => {
  const dataDir = tempDir(t)
  const [keys, link] = await Promise.all([
    runCli(['keys', '--help'], { DATA_DIR: dataDir }),
    runCli(['link', '--help'], { DATA_DIR: dataDir }),
  ])
  for (const [run, command] of [
    [keys, 'keys'],
    [link, 'link'],
  ] as const) {
    t.equal(run.code, 0, run.stderr)
    t.match(run.stdout, new RegExp(`^Usage: latchkey ${command} \\[options\\]`))
    t.notMatch(run.stdout, /lk_|LINK_SECRETS=|"d":/, 'no secret')
    t.equal(run.stderr, '')
  }
  t.same(readdirSync(dataDir), [], 'no secrets, no database')
})

t.test('--version exits 0 with the version of package.json', async (t) => {
  const run = await runCli(['--version'], {})
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, `${VERSION}\n`)
})

t.test('an unknown command or option exits 2 with a message, never a stack trace', async (t) => {
  const [command, option] = await Promise.all([
    runCli(['frobnicate'], {}),
    runCli(['link', '--frob', 'a@example.com'], {}),
  ])
  t.equal(command.code, 2)
  t.equal(
    command.stderr,
    "error: unknown command 'frobnicate'\n(run 'latchkey --help' for usage)\n",
  )
  t.equal(option.code, 2)
  t.equal(option.stderr, "error: unknown option '--frob'\n(run 'latchkey link --help' for usage)\n")
  for (const run of [command, option]) {
    t.notMatch(run.stderr, STACK)
    t.equal(run.stdout, '')
  }
})
