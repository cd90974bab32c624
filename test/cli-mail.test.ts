import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import t from 'tap'
import type { Env } from '../src/config.js'
import { childEnv } from './helpers/child-env.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-mail-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Runs `latchkey …args` with no latchkey setting inherited but those given, and DATA_DIR an empty
 * directory, so a test sees whether the command creates keys or a database there.
 */
function cli(dataDir: string, args: string[], env: Env = {}): Promise<Run> {
  const base = childEnv({}, { clean: true })
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { cwd: ROOT, env: { ...base, DATA_DIR: dataDir, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({ code, stdout, stderr })
      },
    )
  })
}

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
  const usages = [['mail'], ['mail', 'send'], ['mail', 'preview', 'extra']]
  const [badTtl, ...runs] = await Promise.all([
    cli(dir, ['mail', 'preview'], { LINK_TTL: 'soon' }),
    ...usages.map((args) => cli(dir, args)),
  ])
  for (const [i, args] of usages.entries()) {
    t.equal(runs[i]?.code, 2, args.join(' '))
    t.match(runs[i]?.stderr, /Usage: latchkey mail preview \[--out <file>\]/)
  }
  t.equal(badTtl?.code, 1)
  t.match(badTtl?.stderr, /LINK_TTL/)
  t.equal(badTtl?.stdout, '')
})
