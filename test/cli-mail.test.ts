import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
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
  t.match(badTtl?.stderr, /LINK_TTL: "soon" is not a number of seconds/)
  t.notMatch(badTtl?.stderr, /\n\s+at /)
  t.equal(badTtl?.stdout, '')
  t.same(readdirSync(dir), [], 'nothing written')
})

t.test('mail preview --locale renders the email in each language, lang and all', async (t) => {
  const dir = tempDir(t)
  const expected = {
    en: ['Sign in to Acme', 'This link works once and expires in 1 hour.'],
    de: ['Bei Acme anmelden', 'Dieser Link funktioniert nur einmal und läuft in 1 Stunde ab.'],
    fr: ['Se connecter à Acme', 'Ce lien ne fonctionne qu’une fois et expire dans 1\u00a0heure.'],
    es: ['Inicia sesión en Acme', 'Este enlace funciona una sola vez y caduca dentro de 1 hora.'],
  } as const
  const runs = await Promise.all(
    Object.keys(expected).map((locale) =>
      cli(join(dir, 'data'), ['mail', 'preview', '--locale', locale], {
        APP_NAME: 'Acme',
        LINK_TTL: '3600',
      }),
    ),
  )
  for (const [i, [locale, [subject, validity]]] of Object.entries(expected).entries()) {
    const run = runs[i]
    t.equal(run?.code, 0, run?.stderr ?? '')
    t.match(
      run?.stdout,
      new RegExp(`^To: .+\\nSubject: ${subject}\\nContent-Language: ${locale}\\n`),
    )
    t.match(run?.stdout, new RegExp(`<html lang="${locale}" dir="ltr">`), `${locale}: <html lang>`)
    const [text = ''] = (run?.stdout ?? '').split('--- text/html ---')
    t.ok(text.includes(validity), `${locale}: the expiry, in words`)
  }

  const regional = await cli(join(dir, 'data'), ['mail', 'preview', '--locale', 'de-CH'])
  t.match(regional.stdout, /Content-Language: de\n/, 'a region falls back to its language')
  const fallback = await cli(join(dir, 'data'), ['mail', 'preview'], { DEFAULT_LOCALE: 'fr' })
  t.match(fallback.stdout, /Content-Language: fr\n/, 'DEFAULT_LOCALE when none is asked for')
  const unknown = await cli(join(dir, 'data'), ['mail', 'preview', '--locale', 'pt'])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /argument 'pt' is invalid\. Give one of en, de, fr, es\./)
  t.same(readdirSync(dir), [], 'nothing written')
})

t.test(
  'mail preview shows the operator’s templates and colour, and refuses broken ones',
  async (t) => {
    const dir = tempDir(t)
    const templates = join(dir, 'templates')
    mkdirSync(join(templates, 'strings'), { recursive: true })
    writeFileSync(join(templates, 'strings', 'de.json'), '{"email.heading": "Willkommen zurück"}')
    const run = await cli(join(dir, 'data'), ['mail', 'preview', '--locale', 'de'], {
      TEMPLATES_DIR: templates,
      BRAND_COLOR: '#be123c',
    })
    t.equal(run.code, 0, run.stderr)
    t.match(run.stdout, />Willkommen zurück<\/h1>/)
    t.match(run.stdout, /bgcolor="#be123c"/)

    writeFileSync(join(templates, 'link.html.eta'), 'one\n<%= it.nope.nope %>\n')
    const broken = await cli(join(dir, 'data'), ['mail', 'preview'], { TEMPLATES_DIR: templates })
    t.equal(broken.code, 1)
    t.match(broken.stderr, /link\.html\.eta, line 2: Cannot read properties of undefined/)
    const colour = await cli(join(dir, 'data'), ['mail', 'preview'], { BRAND_COLOR: 'blue' })
    t.equal(colour.code, 1)
    t.match(colour.stderr, /BRAND_COLOR: "blue" is not a colour/)
    // The language the service would refuse to start with is refused here too.
    const language = await cli(join(dir, 'data'), ['mail', 'preview'], { DEFAULT_LOCALE: 'de-CH' })
    t.equal(language.code, 1)
    t.match(language.stderr, /DEFAULT_LOCALE: "de-CH" is not a language latchkey ships/)
  },
)
