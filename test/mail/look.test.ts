import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { PAGE_TEMPLATES, pageRenderer } from '../../src/http/pages/render.js'
import { CATALOGUES, translator } from '../../src/mail/locales/index.js'
import { DEFAULT_BRAND_COLOR, loadLook, unknownTemplates } from '../../src/mail/look.js'
import { linkMessages, MAIL_TEMPLATES } from '../../src/mail/templates/link.js'
import { configProblems } from '../helpers/config.js'
import { tempDir } from '../helpers/temp.js'

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('rest of a png'),
])

/** A TEMPLATES_DIR with these files (paths relative to it). */
function templatesDir(t: Test, files: Record<string, string>): string {
  const dir = tempDir(t)
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
  return dir
}

const everyLanguage = (look: ReturnType<typeof loadLook>) =>
  (['en', 'de', 'fr', 'es'] as const).map((l) => translator(l, look.catalogues[l]))

t.test('nothing set: the shipped look', async (t) => {
  const look = loadLook({})
  t.equal(look.templates.size, 0)
  t.equal(look.catalogues.de, CATALOGUES.de)
  t.equal(look.brandColor, DEFAULT_BRAND_COLOR)
  t.equal(look.logo, undefined)
})

t.test('strings/<locale>.json are merged over the shipped catalogue', async (t) => {
  const dir = templatesDir(t, {
    'strings/de.json': JSON.stringify({
      'confirm.submit': 'Jetzt anmelden',
      'duration.minutes': { one: 'einer Minute', other: '{count} Minuten' },
    }),
    'strings/en.json': JSON.stringify({ 'common.signInTo': 'Welcome back to {app}' }),
    'README.md': 'other files are left alone',
  })
  const look = loadLook({ templatesDir: dir })
  t.equal(look.catalogues.de['confirm.submit'], 'Jetzt anmelden')
  t.equal(look.catalogues.de['confirm.lead'], CATALOGUES.de['confirm.lead'], 'the rest stays')
  t.equal(translator('de', look.catalogues.de).duration(60), 'einer Minute')
  t.equal(look.catalogues.en['common.signInTo'], 'Welcome back to {app}')
  t.equal(look.catalogues.fr, CATALOGUES.fr)
})

t.test('strings that would not work are refused, every one named with its file', async (t) => {
  const dir = templatesDir(t, {
    'strings/de.json': JSON.stringify({
      'confirm.nope': 'x',
      'confirm.submit': 42,
      'email.subject': 'Hallo {name}',
      'duration.hours': { one: '{count} Stunde', few: 'x', other: '{count} Stunden' },
      'duration.days': 'Tage',
    }),
    'strings/pt.json': '{}',
    'strings/fr.json': '{ not json',
    'strings/es.json': '["a"]',
  })
  const problems = configProblems(() => loadLook({ templatesDir: dir }))
  const de = join(dir, 'strings/de.json')
  t.match(problems, [
    new RegExp(`^TEMPLATES_DIR: ${de}: "confirm.nope" is no string latchkey has`),
    new RegExp(`^TEMPLATES_DIR: ${de}: "confirm.submit" must be a string`),
    /"email.subject" uses \{name\}, which it is not given; it may use \{app\}/,
    /"duration.hours" must be plural forms, strings for one, other/,
    /"duration.days" must be plural forms/,
    /es\.json must be one JSON object/,
    /fr\.json is not JSON/,
    /pt\.json is for no language latchkey ships/,
  ])
  t.equal(problems.length, 8)
})

t.test('LOGO_FILE: a PNG or an SVG, by its bytes', async (t) => {
  const dir = templatesDir(t, {
    'logo.svg': '<?xml version="1.0"?>\n<!-- Acme --><svg xmlns="http://www.w3.org/2000/svg"/>',
    'logo.gif': 'GIF89a…',
    'big.png': 'x'.repeat(600 * 1024),
  })
  writeFileSync(join(dir, 'logo.png'), PNG)
  t.equal(loadLook({ logoFile: join(dir, 'logo.png') }).logo?.type, 'image/png')
  const svg = loadLook({ logoFile: join(dir, 'logo.svg') }).logo
  t.equal(svg?.type, 'image/svg+xml')
  t.same(svg?.body, readFileSync(join(dir, 'logo.svg')), 'its bytes, read once')
  t.match(
    configProblems(() => loadLook({ logoFile: join(dir, 'logo.gif') })),
    [/^LOGO_FILE: .*logo\.gif is neither a PNG nor an SVG file/],
  )
  t.match(
    configProblems(() => loadLook({ logoFile: join(dir, 'big.png') })),
    [/larger than 512 KB/],
  )
  t.match(
    configProblems(() => loadLook({ logoFile: join(dir, 'missing.png') })),
    [/ENOENT/],
  )
  t.match(
    configProblems(() => loadLook({ templatesDir: join(dir, 'nowhere') })),
    [/^TEMPLATES_DIR: .*nowhere cannot be read/],
  )
})

t.test('a template that replaces none is refused by name', async (t) => {
  const dir = templatesDir(t, { 'confirm.eta': 'x', 'confrim.eta': 'y' })
  const look = loadLook({ templatesDir: dir })
  t.match(unknownTemplates(look, [...PAGE_TEMPLATES, ...MAIL_TEMPLATES]), [
    /confrim\.eta replaces no template; name it after one of layout\.eta, login\.eta/,
  ])
})

t.test('replaced page templates render, or refuse to start with their file and line', async (t) => {
  const dir = templatesDir(t, {
    'confirm.eta':
      "<% layout('@layout', { title: 'Hi' }) %>\n<h1><%= it.t('common.signInTo', { app: it.appName }) %></h1>\n<p>Our own words</p>",
  })
  const good = loadLook({ templatesDir: dir })
  const pages = pageRenderer(good, everyLanguage(good))
  const html = pages.render({
    name: 'confirm',
    maskedEmail: 'a•••@example.com',
    token: 't',
    appName: 'Acme',
    csrf: 'c',
    translator: translator('de', good.catalogues.de),
  })
  t.match(html, /<html lang="de"/, 'in the shipped layout')
  t.match(html, /<h1>Bei Acme anmelden<\/h1>\n<p>Our own words<\/p>/)

  const broken = templatesDir(t, {
    'sent.eta': "<% layout('@layout', { title: 'x' }) %>\nline two\n<%= it.nothing.here %>\n",
    'login.eta': 'one\n<% if (it.email { %>\nthree\n<% } %>\n',
    'reported.eta': 'one\ntwo\n<%= it.t(\n',
  })
  const look = loadLook({ templatesDir: broken })
  const problems = configProblems(() => pageRenderer(look, everyLanguage(look)))
  t.match(problems, [
    new RegExp(`^TEMPLATES_DIR: ${join(broken, 'login.eta')}, line 2: Unexpected token`),
    new RegExp(`^TEMPLATES_DIR: ${join(broken, 'reported.eta')}, line 3: unclosed tag`),
    new RegExp(
      `^TEMPLATES_DIR: ${join(broken, 'sent.eta')}, line 3: Cannot read properties of undefined`,
    ),
  ])
})

t.test(
  'replaced email templates render, or refuse to start with their file and line',
  async (t) => {
    const dir = templatesDir(t, {
      'link.txt.eta': "<%= it.t('email.subject', { app: it.appName }) %>\n\n<%= it.link %>\n",
    })
    const look = loadLook({ templatesDir: dir, brandColor: '#C2410C' })
    const emails = linkMessages(look, {
      publicUrl: 'https://login.example',
      translators: everyLanguage(look),
    })
    const words = translator('es', look.catalogues.es)
    const message = emails.render(
      { to: 'a@example.com', link: 'https://x/l', appName: 'Acme', ttlSeconds: 900, oneTime: true },
      words,
    )
    t.equal(message.text, 'Inicia sesión en Acme\n\nhttps://x/l\n', 'the replaced text part')
    t.match(message.html, /bgcolor="#c2410c"/, 'the shipped HTML part, in the brand colour')
    t.notMatch(message.html, /<img/, 'no logo, no image')

    const broken = templatesDir(t, { 'link.html.eta': 'a\nb\n<%= it.code.toUpperCase() %>' })
    const bad = loadLook({ templatesDir: broken })
    t.match(
      configProblems(() => linkMessages(bad, { translators: everyLanguage(bad) })),
      [
        new RegExp(
          `^TEMPLATES_DIR: ${join(broken, 'link.html.eta')}, line 3: Cannot read properties of undefined`,
        ),
      ],
    )
  },
)

t.test('the logo in the email comes from PUBLIC_URL, served by latchkey', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'logo.png'), PNG)
  const look = loadLook({ logoFile: join(dir, 'logo.png') })
  const message = linkMessages(look, { publicUrl: 'https://login.example' }).render(
    { to: 'a@example.com', link: 'https://x/l', appName: 'Acme', ttlSeconds: 900, oneTime: true },
    translator('en', CATALOGUES.en),
  )
  t.match(message.html, /<img src="https:\/\/login\.example\/assets\/logo" alt=""/)
  t.equal([...message.html.matchAll(/<img /g)].length, 1, 'the only image')
})
