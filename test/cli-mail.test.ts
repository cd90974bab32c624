import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from './helpers/cli.js'
import { tempDir } from './helpers/temp.js'

/**
 * Runs `latchkey …args` with DATA_DIR an empty directory, so a test sees whether the command
 * creates keys or a database there.
 */
const cli = (dataDir: string, args: string[], env: Record<string, string> = {}) =>
  runCli(args, { DATA_DIR: dataDir, ...env })

t.test('mail preview --out writes the HTML email, needing no keys nor data', async (t) => {
  const dir = tempDir(t)
  const dataDir = join(dir, 'data')
  const out = join(dir, 'x.html')
  // Production refuses to start without secrets; the preview must not care.
  const run = await cli(dataDir, ['mail', 'preview', '--out', out], {
    NODE_ENV: 'production',
    APP_NAME: 'Acme Preview',
    PUBLIC_URL: 'https://login.acme.example',
    LINK_TTL: '3600',
  })
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /Sign in to Acme Preview/)
  const html = readFileSync(out, 'utf8')
  t.match(html, /^<!DOCTYPE html>/)
  t.match(html, /<table/)
  t.match(html, />Sign in to Acme Preview<\/a>/)
  t.match(html, /href="https:\/\/login\.acme\.example\/login\/link\?token=[A-Za-z0-9_-]{64}"/)
  t.match(html, /This link works once and expires in 1 hour\./)
  t.same(readdirSync(dir), ['x.html'], 'no data directory, no generated keys')
})

t.test('mail preview without --out prints both parts, with the defaults', async (t) => {
  const dir = tempDir(t)
  const run = await cli(join(dir, 'data'), ['mail', 'preview'])
  t.equal(run.code, 0, run.stderr)
  const [text = '', html = ''] = run.stdout.split('--- text/html ---')
  t.match(run.stdout, /^To: .+\nSubject: Sign in to latchkey\n/)
  t.match(text, /--- text\/plain ---\nSign in to latchkey\n/)
  t.match(
    text,
    /\nhttp:\/\/localhost:3000\/login\/link\?token=[A-Za-z0-9_-]{64}\n/,
    'the link on a line of its own',
  )
  t.match(text, /This link works once and expires in 15 minutes\./)
  t.match(html, /<!DOCTYPE html>[\s\S]*<table[\s\S]*<\/html>\n$/)
  t.same(readdirSync(dir), [], 'nothing written')
})

t.test('mail with no or another subcommand, or a bad LINK_TTL, says what to do', async (t) => {
  const dir = tempDir(t)
  const usages: [string[], RegExp][] = [
    [['mail'], /^Usage: latchkey mail \[options\] \[command\][\s\S]*\n {2}preview \[options\]/],
    [['mail', 'send'], /^error: unknown command 'send'\n/],
    [['mail', 'preview', 'extra'], /^error: too many arguments for 'preview'/],
    [['mail', 'preview', '--out', ''], /^error: option '--out <file>' argument '' is invalid/],
  ]
  const [badTtl, ...runs] = await Promise.all([
    cli(dir, ['mail', 'preview'], { LINK_TTL: 'soon' }),
    ...usages.map(([args]) => cli(dir, args)),
  ])
  for (const [i, [args, message]] of usages.entries()) {
    t.equal(runs[i]?.code, 2, args.join(' '))
    t.match(runs[i]?.stderr, message)
    t.equal(runs[i]?.stdout, '')
  }
  t.equal(badTtl?.code, 1)
  t.match(badTtl?.stderr, /LINK_TTL: must be a whole number of seconds/)
  t.notMatch(badTtl?.stderr, /\n\s+at /)
  t.equal(badTtl?.stdout, '')
  t.same(readdirSync(dir), [], 'nothing written')
})
