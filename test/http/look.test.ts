import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { buildApp, buildDeps } from '../../src/app.js'
import { ConfigError } from '../../src/errors.js'
import { appLogger } from '../../src/http/logging.js'
import { build, testConfig } from '../helpers/app.js'
import { postLink } from '../helpers/http.js'
import { Browser, heading } from '../helpers/pages.js'
import { tempDir } from '../helpers/temp.js'

// An operator's own templates and words (TEMPLATES_DIR), BRAND_COLOR, a logo
// served by latchkey itself, and a favicon; a template that does not render refuses to start.

const quiet = appLogger('silent')

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('the rest of a logo'),
])

t.test('own templates, strings, colour and logo, on the pages and in the email', async (t) => {
  const dir = tempDir(t)
  const templates = join(dir, 'templates')
  mkdirSync(join(templates, 'strings'), { recursive: true })
  writeFileSync(
    join(templates, 'login.eta'),
    "<% layout('@layout', { title: it.t('login.title') }) %>\n<h1>Welcome to <%= it.appName %></h1>\n<p class=\"acme\">Acme's own form</p>\n",
  )
  writeFileSync(
    join(templates, 'strings', 'de.json'),
    JSON.stringify({ 'confirm.submit': 'Jetzt anmelden', 'email.subject': 'Ihr Zugang zu {app}' }),
  )
  writeFileSync(join(dir, 'logo.png'), PNG)
  const h = await build(t, {
    env: {
      TEMPLATES_DIR: templates,
      BRAND_COLOR: '#0F766E',
      LOGO_FILE: join(dir, 'logo.png'),
    },
  })
  const b = new Browser(h.app)

  const login = await b.get('/login')
  t.equal(heading(login.body), 'Welcome to latchkey', 'the replaced template')
  t.match(login.body, /<p class="acme">Acme's own form<\/p>/)
  t.match(login.body, /<img class="lk-logo" src="\/assets\/logo" alt="">/, 'the logo, ours')
  t.match(login.body, /<link rel="icon" href="\/assets\/favicon\.svg" type="image\/svg\+xml">/)
  t.notMatch(login.body, /style=/, 'no inline style: the CSP holds')
  t.match(String(login.headers['content-security-policy']), /style-src 'self'; img-src 'self'/)

  const css = await b.get('/assets/latchkey.css', {})
  t.match(css.body, /\/\* BRAND_COLOR \*\/\n:root \{\n {2}--primary: #0f766e;/, 'in the stylesheet')

  const logo = await b.get('/assets/logo', {})
  t.equal(logo.statusCode, 200)
  t.equal(logo.headers['content-type'], 'image/png')
  t.same(logo.rawPayload, PNG)
  t.equal(logo.headers['cache-control'], 'public, max-age=3600')
  const again = await b.get('/assets/logo', { 'if-none-match': String(logo.headers.etag) })
  t.equal(again.statusCode, 304, 'revalidated by its ETag')

  // The German words replaced, the others still the shipped ones.
  const res = await postLink(h.app, { email: 'ada@example.com', locale: 'de' })
  t.equal(res.statusCode, 202)
  await h.app.outbox.runOnce()
  const message = h.mail.find((m) => m.to === 'ada@example.com')
  t.equal(message?.subject, 'Ihr Zugang zu latchkey')
  t.match(message?.html, /bgcolor="#0f766e"/, 'the button in the brand colour')
  t.match(message?.html, /<img src="https:\/\/login\.example\.test\/assets\/logo" alt=""/)
  const page = await b.get(/https:\/\/\S+/.exec(message?.text ?? '')?.[0] ?? '', {
    'sec-fetch-site': 'none',
    'accept-language': 'de',
  })
  t.match(page.body, />Jetzt anmelden<\/button>/)
})

t.test('the favicon: shipped, cached, and where browsers look for it', async (t) => {
  const { app } = await build(t)
  const b = new Browser(app)
  const icon = await b.get('/assets/favicon.svg', {})
  t.equal(icon.statusCode, 200)
  t.equal(icon.headers['content-type'], 'image/svg+xml')
  t.match(icon.body, /^<svg /)
  t.match(String(icon.headers['content-security-policy']), /sandbox/, 'an SVG runs nothing')
  const ico = await b.get('/favicon.ico', {})
  t.equal(ico.statusCode, 301)
  t.equal(ico.headers.location, '/assets/favicon.svg')
  t.equal((await b.get('/assets/logo', {})).statusCode, 404, 'no LOGO_FILE, no logo')
})

t.test('a template that does not render refuses to start, naming file and line', async (t) => {
  const dir = tempDir(t)
  const templates = join(dir, 'templates')
  mkdirSync(templates)
  writeFileSync(join(templates, 'confirm.eta'), 'one\ntwo\n<%= it.maskedEmail.nope.deeper %>\n')
  writeFileSync(join(templates, 'link.txt.eta'), 'one\n<% if (it.code { %>\n')
  writeFileSync(join(templates, 'confrim.eta'), 'misspelt')
  const refused = async (env: Record<string, string>) => {
    const error = await buildApp(testConfig(join(dir, 'data'), env)).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(error instanceof ConfigError, 'a ConfigError: latchkey cannot start')
    return (error as ConfigError).problems
  }
  t.match(await refused({ TEMPLATES_DIR: templates }), [/confrim\.eta replaces no template/])
  rmSync(join(templates, 'confrim.eta'))
  // A broken email and a broken page are refused together, each with its file and line.
  const both = await refused({ TEMPLATES_DIR: templates })
  t.strictSame(
    both.map((problem) => problem.split(':')[1]),
    [` ${join(templates, 'link.txt.eta')}, line 2`, ` ${join(templates, 'confirm.eta')}, line 3`],
  )
  t.match(both, [
    new RegExp(`^TEMPLATES_DIR: ${join(templates, 'link.txt.eta')}, line 2: Unexpected token`),
  ])
  rmSync(join(templates, 'link.txt.eta'))
  t.match(await refused({ TEMPLATES_DIR: templates }), [
    new RegExp(
      `^TEMPLATES_DIR: ${join(templates, 'confirm.eta')}, line 3: Cannot read properties of undefined \\(reading 'deeper'\\)`,
    ),
  ])
})

t.test('a page template, like an email one, is refused before the store is opened', async (t) => {
  const dir = tempDir(t)
  const templates = join(dir, 'templates')
  mkdirSync(templates)
  // DATA_DIR is a file: opening the store there would fail, so only a refusal that comes
  // before the store is opened is a ConfigError.
  const notADirectory = join(dir, 'file')
  writeFileSync(notADirectory, '')
  const config = testConfig(notADirectory, { TEMPLATES_DIR: templates })
  const failure = () =>
    buildDeps(config, { mailer: { send: async () => ({}) } }, quiet).then(
      () => undefined,
      (e: unknown) => e,
    )
  for (const [file, source] of [
    ['confirm.eta', 'one\n<%= it.maskedEmail.nope.deeper %>\n'],
    ['link.txt.eta', 'one\n<%= it.code.nope.deeper %>\n'],
  ] as const) {
    writeFileSync(join(templates, file), source)
    const error = await failure()
    t.ok(error instanceof ConfigError, `${file}: a ConfigError, not the store's failure`)
    t.match((error as ConfigError).problems, [
      new RegExp(`^TEMPLATES_DIR: ${join(templates, file)}, line 2: Cannot read properties`),
    ])
    rmSync(join(templates, file))
  }
  const error = await failure()
  t.ok(error && !(error instanceof ConfigError), 'with good templates, the store fails to open')
})

t.test('BRAND_COLOR must be a colour', async (t) => {
  const error = (() => {
    try {
      testConfig(tempDir(t), { BRAND_COLOR: 'red; background: url(x)' })
    } catch (e) {
      return e
    }
  })()
  t.ok(error instanceof ConfigError)
  t.match((error as ConfigError).problems, [
    /^BRAND_COLOR: .* is not a colour; set a hex colour like #0f766e/,
  ])
})
