import t from 'tap'
import { CATALOGUES } from '../../src/mail/locales/index.js'
import { build } from '../helpers/app.js'
import { postLink } from '../helpers/http.js'
import { Browser, heading, mustForm, SAME_ORIGIN } from '../helpers/pages.js'

// The pages in the language the browser asks for (Accept-Language, limited to
// LOCALES, else DEFAULT_LOCALE), and the email in the language of whoever asked for it: the
// hosted form's page language, remembered in the outbox row, or the API's `locale`.

const LANG = /^<!doctype html>\n<html lang="([^"]+)"/

t.test('pages follow Accept-Language, with lang and Content-Language', async (t) => {
  const { app } = await build(t)
  const b = new Browser(app)
  const cases: [string | undefined, string, string][] = [
    [undefined, 'en', 'Sign in to latchkey'],
    ['de-CH,de;q=0.9,en;q=0.8', 'de', 'Bei latchkey anmelden'],
    ['fr-FR', 'fr', 'Se connecter à latchkey'],
    ['es-419, en;q=0.5', 'es', 'Inicia sesión en latchkey'],
    ['en;q=0.2, es;q=0.9', 'es', 'Inicia sesión en latchkey'],
    ['pt-BR', 'en', 'Sign in to latchkey'],
  ]
  for (const [acceptLanguage, lang, h1] of cases) {
    const res = await b.get('/login', {
      'sec-fetch-site': 'none',
      ...(acceptLanguage && { 'accept-language': acceptLanguage }),
    })
    t.equal(res.statusCode, 200)
    t.equal(LANG.exec(res.body)?.[1], lang, `${acceptLanguage}: <html lang="${lang}">`)
    t.equal(res.headers['content-language'], lang, `${acceptLanguage}: Content-Language`)
    t.match(String(res.headers.vary), /Accept-Language/i, 'caches keep languages apart')
    t.equal(heading(res.body), h1)
  }

  // A page with an error in it, in German: the word by the field too.
  const form = await b.get('/login', { 'sec-fetch-site': 'none', 'accept-language': 'de' })
  const bad = await b.post(
    '/login',
    { ...mustForm(form.body, '/login'), email: 'nope' },
    { ...SAME_ORIGIN, 'accept-language': 'de' },
  )
  t.equal(bad.statusCode, 400)
  t.ok(bad.body.includes(CATALOGUES.de['login.invalidEmail']), 'the error in German')

  // Error pages too: a link that does not work, in French.
  const broken = await b.get('/login/link?token=nope', {
    'sec-fetch-site': 'none',
    'accept-language': 'fr',
  })
  t.equal(LANG.exec(broken.body)?.[1], 'fr')
  t.equal(heading(broken.body), CATALOGUES.fr['linkError.token_invalid.heading'])
})

t.test('LOCALES limits the languages; DEFAULT_LOCALE fills in', async (t) => {
  const { app } = await build(t, { env: { LOCALES: 'en,fr', DEFAULT_LOCALE: 'fr' } })
  const b = new Browser(app)
  const page = async (acceptLanguage: string) =>
    b.get('/login', { 'sec-fetch-site': 'none', 'accept-language': acceptLanguage })
  t.equal(LANG.exec((await page('de')).body)?.[1], 'fr', 'German is not on offer')
  t.equal(LANG.exec((await page('de, en;q=0.1')).body)?.[1], 'en', 'the next best is')
})

t.test('the email of the hosted form is in the language of its page', async (t) => {
  const h = await build(t)
  const b = new Browser(h.app)
  const german = { 'accept-language': 'de-AT, de;q=0.9' }
  const form = await b.get('/login', { 'sec-fetch-site': 'none', ...german })
  const sent = await b.post(
    '/login',
    { ...mustForm(form.body, '/login'), email: 'ada@example.com' },
    { ...SAME_ORIGIN, ...german },
  )
  t.equal(sent.statusCode, 200)
  t.equal(heading(sent.body), 'Sehen Sie in Ihre E-Mails')
  // The worker sends later, with no browser in sight: the row remembers the language.
  await h.app.outbox.runOnce()
  const message = h.mail.find((m) => m.to === 'ada@example.com')
  t.ok(message, 'an email')
  t.equal(message?.lang, 'de', 'the message says its language (Content-Language)')
  t.equal(message?.subject, 'Bei latchkey anmelden')
  t.match(message?.html, /^<!DOCTYPE html>\n<html lang="de"/)
  t.match(message?.text, /Beide laufen in 15 Minuten ab\./)
  t.match(message?.text, /Oder geben Sie diesen Code dort ein/)
})

t.test('POST /v1/links: `locale` picks the email’s language', async (t) => {
  const h = await build(t)
  const cases: [string | undefined, string, string][] = [
    ['fr', 'fr', 'Se connecter à latchkey'],
    ['es-MX', 'es', 'Inicia sesión en latchkey'],
    ['DE', 'de', 'Bei latchkey anmelden'],
    ['pt-BR', 'en', 'Sign in to latchkey'],
    [undefined, 'en', 'Sign in to latchkey'],
  ]
  for (const [locale, lang, subject] of cases) {
    const email = `api-${locale ?? 'none'}@example.com`
    const res = await postLink(h.app, { email, ...(locale && { locale }), ttl_seconds: 3600 })
    t.equal(res.statusCode, 202, `${locale}: accepted`)
    await h.app.outbox.runOnce()
    const message = h.mail.find((m) => m.to === email)
    t.equal(message?.lang, lang, `${locale} → ${lang}`)
    t.equal(message?.subject, subject)
    t.match(message?.html, new RegExp(`<html lang="${lang}"`))
  }
  const french = h.mail.find((m) => m.to === 'api-fr@example.com')
  t.match(french?.text, /expirent dans 1\u00a0heure\./, 'the expiry, in French, singular')

  for (const locale of ['', 'x', 'de_DE', 'de-', '12', 'de-CH-<b>', 'a'.repeat(40), 7]) {
    const res = await postLink(h.app, { email: 'bad-locale@example.com', locale })
    t.equal(res.statusCode, 400, `${JSON.stringify(locale)}: malformed, 400`)
    t.equal(res.json().code, 'invalid_request')
  }
})
