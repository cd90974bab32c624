import t from 'tap'
import { SHIPPED_LOCALES } from '../../src/config/index.js'
import {
  bestLocale,
  buildTexts,
  CATALOGUES,
  type MessageKey,
  negotiate,
  placeholders,
  translator,
} from '../../src/mail/locales/index.js'

const KEYS = Object.keys(CATALOGUES.en).sort()

t.test('every language has every key of English, and no other', async (t) => {
  t.same(Object.keys(CATALOGUES).sort(), [...SHIPPED_LOCALES].sort(), 'one catalogue per locale')
  for (const locale of SHIPPED_LOCALES) {
    const keys = Object.keys(CATALOGUES[locale]).sort()
    t.same(
      KEYS.filter((key) => !keys.includes(key)),
      [],
      `${locale}: no key missing`,
    )
    t.same(
      keys.filter((key) => !KEYS.includes(key)),
      [],
      `${locale}: no key extra`,
    )
  }
})

t.test('every message interpolates the same placeholders in every language', async (t) => {
  for (const key of KEYS as MessageKey[]) {
    const english = placeholders(CATALOGUES.en[key])
    for (const locale of SHIPPED_LOCALES) {
      t.same(placeholders(CATALOGUES[locale][key]), english, `${locale} ${key}: ${english}`)
    }
  }
})

t.test('plurals have a form for each of the language’s categories, and no other', async (t) => {
  for (const locale of SHIPPED_LOCALES) {
    const categories = new Intl.PluralRules(locale).resolvedOptions().pluralCategories.sort()
    for (const key of KEYS as MessageKey[]) {
      const value = CATALOGUES[locale][key]
      const english = CATALOGUES.en[key]
      t.equal(typeof value, typeof english, `${locale} ${key}: plural where English has one`)
      if (typeof value === 'string') {
        t.ok(value.trim().length > 0, `${locale} ${key}: not blank`)
        continue
      }
      t.same(Object.keys(value).sort(), categories, `${locale} ${key}: ${categories}`)
      // Every form says how many: "1 minute", never a bare "minute".
      for (const form of Object.values(value)) t.match(form, /\{count\}/, `${locale} ${key}`)
    }
  }
})

t.test('the expiry and waiting words, in each language, for one and many', async (t) => {
  const expected: Record<(typeof SHIPPED_LOCALES)[number], Record<number, string>> = {
    en: {
      1: '1 second',
      60: '1 minute',
      900: '15 minutes',
      3600: '1 hour',
      7200: '2 hours',
      86400: '1 day',
      604800: '7 days',
      90: '90 seconds',
    },
    de: {
      1: '1 Sekunde',
      60: '1 Minute',
      900: '15 Minuten',
      3600: '1 Stunde',
      7200: '2 Stunden',
      86400: '1 Tag',
      604800: '7 Tagen',
      90: '90 Sekunden',
    },
    fr: {
      1: '1\u00a0seconde',
      60: '1\u00a0minute',
      900: '15\u00a0minutes',
      3600: '1\u00a0heure',
      7200: '2\u00a0heures',
      86400: '1\u00a0jour',
      604800: '7\u00a0jours',
      90: '90\u00a0secondes',
    },
    es: {
      1: '1 segundo',
      60: '1 minuto',
      900: '15 minutos',
      3600: '1 hora',
      7200: '2 horas',
      86400: '1 día',
      604800: '7 días',
      90: '90 segundos',
    },
  }
  for (const locale of SHIPPED_LOCALES) {
    const words = translator(locale, CATALOGUES[locale])
    for (const [seconds, text] of Object.entries(expected[locale])) {
      t.equal(words.duration(Number(seconds)), text, `${locale}: ${seconds} s`)
    }
  }
  const sentence = (locale: (typeof SHIPPED_LOCALES)[number], seconds: number) => {
    const words = translator(locale, CATALOGUES[locale])
    return words.t('email.validityOnce', { duration: words.duration(seconds) })
  }
  t.equal(sentence('en', 900), 'This link works once and expires in 15 minutes.')
  t.equal(sentence('en', 3600), 'This link works once and expires in 1 hour.')
  t.equal(sentence('en', 60), 'This link works once and expires in 1 minute.')
  t.equal(sentence('de', 900), 'Dieser Link funktioniert nur einmal und läuft in 15 Minuten ab.')
  t.equal(sentence('de', 3600), 'Dieser Link funktioniert nur einmal und läuft in 1 Stunde ab.')
  t.equal(sentence('de', 172800), 'Dieser Link funktioniert nur einmal und läuft in 2 Tagen ab.')
  t.equal(sentence('fr', 60), 'Ce lien ne fonctionne qu’une fois et expire dans 1\u00a0minute.')
  t.equal(sentence('fr', 7200), 'Ce lien ne fonctionne qu’une fois et expire dans 2\u00a0heures.')
  t.equal(sentence('es', 3600), 'Este enlace funciona una sola vez y caduca dentro de 1 hora.')
  t.equal(sentence('es', 900), 'Este enlace funciona una sola vez y caduca dentro de 15 minutos.')

  // Large numbers take the language's digit grouping, and French and Spanish their "many" form.
  t.equal(translator('en', CATALOGUES.en).duration(60_000_000), '1,000,000 minutes')
  t.equal(translator('de', CATALOGUES.de).duration(60_000_000), '1.000.000 Minuten')
  t.equal(
    translator('fr', CATALOGUES.fr).duration(60_000_000),
    '1\u202f000\u202f000\u00a0de minutes',
  )
  t.equal(translator('es', CATALOGUES.es).duration(60_000_000), '1.000.000 de minutos')

  const wait = translator('de', CATALOGUES.de).wait
  t.equal(wait(0), '1 Minute', 'never "0 Minuten"')
  t.equal(wait(61), '2 Minuten', 'rounded up')
  t.equal(wait(5401), '2 Stunden', 'hours past an hour and a half')
})

t.test('a plural without a count is a programming mistake', async (t) => {
  const words = translator('en', CATALOGUES.en)
  t.throws(() => words.t('duration.minutes'), TypeError)
  t.equal(words.t('common.signInTo'), 'Sign in to {app}', 'a missing value stays visible')
})

t.test('Accept-Language: qualities, order, regions, exclusions', async (t) => {
  const all = ['en', 'de', 'fr', 'es'] as const
  const cases: [string | undefined, string][] = [
    [undefined, 'en'],
    ['', 'en'],
    ['de', 'de'],
    ['de-CH', 'de'],
    ['de-CH-1996', 'de'],
    ['DE-at', 'de'],
    ['fr-CA,fr;q=0.9,en;q=0.8', 'fr'],
    ['en;q=0.5, es;q=0.9', 'es'],
    ['en;q=0.9, de;q=0.9', 'en'],
    ['pt-BR, pt;q=0.9, es;q=0.5', 'es'],
    ['pt-BR, pt;q=0.9', 'en'],
    ['*', 'en'],
    ['it, *;q=0.1', 'en'],
    ['es;q=0, fr;q=0.1', 'fr'],
    ['es-MX, es;q=0', 'en'],
    ['de;q=abc, fr;q=0.5', 'de'],
    ['garbage;;;, ,, de', 'de'],
    ['zh-Hant-TW;q=1.0, fr;q=0.001', 'fr'],
    [`${'x-'.repeat(5000)}de`, 'en'],
  ]
  for (const [header, locale] of cases) {
    t.equal(
      negotiate(header, all, 'en'),
      locale,
      `${JSON.stringify(header)?.slice(0, 40)} → ${locale}`,
    )
  }
  t.equal(negotiate('de, fr', ['en', 'fr'], 'en'), 'fr', 'limited to what is on offer')
  t.equal(negotiate('pt', ['en', 'fr'], 'fr'), 'fr', 'the default when nothing matches')
  t.equal(negotiate(Array(100).fill('it').concat('de').join(','), all, 'en'), 'en', 'bounded')
})

t.test('bestLocale: the tag itself, or its nearest prefix on offer', async (t) => {
  t.equal(bestLocale('fr-CA', ['en', 'fr']), 'fr')
  t.equal(bestLocale('FR', ['en', 'fr']), 'fr')
  t.equal(bestLocale('pt-BR', ['en', 'fr']), undefined)
  t.equal(bestLocale('e', ['en']), undefined, 'a prefix of a tag is not a match')
})

t.test('texts: only LOCALES are on offer, and the default fills in', async (t) => {
  const texts = buildTexts({ locales: ['en', 'fr'], defaultLocale: 'fr' })
  t.equal(texts.pick('de-CH'), 'fr', 'German is not on offer: the default')
  t.equal(texts.pick('en-GB'), 'en')
  t.equal(texts.pick(undefined), 'fr')
  t.equal(texts.negotiate('de, en;q=0.5'), 'en')
  t.equal(texts.translator('de').locale, 'fr')
  t.equal(texts.translator('en-US').t('sent.heading'), 'Check your email')
})
