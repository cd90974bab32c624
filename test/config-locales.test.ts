import { randomBytes } from 'node:crypto'
import t from 'tap'
import { generateApiKey } from '../src/auth/api-keys.js'
import { type Env, loadConfig, SHIPPED_LOCALES } from '../src/config/index.js'
import { generateSessionKey } from '../src/sessions/jwt.js'
import { configProblems } from './helpers/config.js'
import { tempDir } from './helpers/temp.js'

const keys: Env = {
  LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
  SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 's1' })]),
  API_KEYS: generateApiKey('svc', 'service').entry,
}

const problemsOf = (env: Env): string[] =>
  configProblems(() => loadConfig({ ...keys, ...env }), JSON.stringify(env))

t.test('by default every shipped language is on offer, English first', async (t) => {
  const config = loadConfig({ ...keys, DATA_DIR: tempDir(t) })
  t.same(config.locales, [...SHIPPED_LOCALES])
  t.equal(config.defaultLocale, 'en')
})

t.test('LOCALES and DEFAULT_LOCALE', async (t) => {
  const config = loadConfig({
    ...keys,
    DATA_DIR: tempDir(t),
    LOCALES: 'de, FR',
    DEFAULT_LOCALE: 'fr',
  })
  t.same(config.locales, ['de', 'fr'])
  t.equal(config.defaultLocale, 'fr')

  t.match(problemsOf({ LOCALES: 'en,de', DEFAULT_LOCALE: 'es' }), [
    /^DEFAULT_LOCALE: es is not in LOCALES \(en,de\)/,
  ])
  t.match(problemsOf({ LOCALES: 'en,pt' }), [/^LOCALES: "pt" is not a language latchkey ships/])
  t.match(problemsOf({ DEFAULT_LOCALE: 'klingon' }), [/^DEFAULT_LOCALE: .*klingon/])
  t.match(problemsOf({ LOCALES: ' , ' }), [/^LOCALES:/], 'an empty list is refused')
})
