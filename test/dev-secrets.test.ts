import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import t from 'tap'
import { ApiKeys, generateApiKey } from '../src/auth/api-keys.js'
import { type Env, loadConfig } from '../src/config/index.js'
import { DEV_SECRETS_FILE, withDevSecrets, withStoredDevSecrets } from '../src/dev-secrets.js'
import { ConfigError } from '../src/errors.js'
import { generateSessionKey } from '../src/sessions/jwt.js'
import { tempDir as scratchDir } from './helpers/temp.js'

const tempDir = (t: Test) => scratchDir(t, 'latchkey-dev-secrets-')

function stored(dataDir: string): Record<string, string> {
  return JSON.parse(readFileSync(join(dataDir, DEV_SECRETS_FILE), 'utf8')) as Record<string, string>
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')

t.test('generates into DATA_DIR/dev-secrets.json, mode 0600', async (t) => {
  // A directory that does not exist yet, as on a first run.
  const dataDir = join(tempDir(t), 'data')
  const env: Env = { DATA_DIR: dataDir }
  const { env: filled, newApiKeys } = await withDevSecrets(env, dataDir)

  const file = join(dataDir, DEV_SECRETS_FILE)
  t.ok(existsSync(file))
  t.equal(statSync(file).mode & 0o777, 0o600, 'only the owner may read it')
  t.same(Object.keys(stored(dataDir)).sort(), ['API_KEYS', 'LINK_SECRETS', 'SESSION_KEYS'])

  t.equal(filled.DATA_DIR, dataDir, 'the rest of the environment is kept')
  t.same(env, { DATA_DIR: dataDir }, 'the env passed in is not modified')
  const config = loadConfig(filled)
  t.equal(config.linkSecrets.length, 1)
  t.equal(config.sessionKeys.length, 1)
  t.equal(config.apiKeys.length, 2)
  t.ok(Buffer.from(config.linkSecrets[0]?.secret ?? '', 'base64url').length >= 32)

  t.equal(newApiKeys.length, 2, 'two API keys, shown once')
  t.same(newApiKeys.map((k) => k.role).sort(), ['admin', 'service'])
  const apiKeys = new ApiKeys(config.apiKeys)
  for (const { name, role, key } of newApiKeys) {
    t.same(apiKeys.authenticate(key), { name, role }, `the ${role} key authenticates`)
  }
  t.not(newApiKeys[0]?.key, newApiKeys[1]?.key)
})

t.test('a second call returns the same secrets and no new keys', async (t) => {
  const dataDir = tempDir(t)
  const env: Env = { DATA_DIR: dataDir }
  const first = await withDevSecrets(env, dataDir)
  const before = readFileSync(join(dataDir, DEV_SECRETS_FILE), 'utf8')
  const second = await withDevSecrets(env, dataDir)

  for (const name of ['LINK_SECRETS', 'SESSION_KEYS', 'API_KEYS']) {
    t.equal(second.env[name], first.env[name], name)
  }
  t.same(second.newApiKeys, [], 'keys are printed once only')
  t.equal(readFileSync(join(dataDir, DEV_SECRETS_FILE), 'utf8'), before, 'the file is unchanged')

  // The keys shown the first time still work against the second configuration.
  const apiKeys = new ApiKeys(loadConfig(second.env).apiKeys)
  for (const { key, role } of first.newApiKeys) t.equal(apiKeys.authenticate(key)?.role, role)
})

t.test('the file holds only API key hashes, never the keys', async (t) => {
  const dataDir = tempDir(t)
  const { newApiKeys } = await withDevSecrets({}, dataDir)
  const text = readFileSync(join(dataDir, DEV_SECRETS_FILE), 'utf8')
  t.equal(newApiKeys.length, 2)
  for (const { key } of newApiKeys) {
    t.notOk(text.includes(key), 'the key is not in the file')
    t.notOk(text.includes(key.slice(3)), 'not even without its prefix')
    t.ok(text.includes(sha256(key)), 'its hash is')
  }
})

t.test('variables set in env are neither overridden nor generated', async (t) => {
  const linkSecrets = `9:${randomBytes(32).toString('base64url')}`
  const sessionKeys = JSON.stringify([await generateSessionKey({ kid: 'mine' })])
  const apiKeys = generateApiKey('mine', 'admin').entry
  const given: Record<string, string> = {
    LINK_SECRETS: linkSecrets,
    SESSION_KEYS: sessionKeys,
    API_KEYS: apiKeys,
  }

  for (const name of Object.keys(given)) {
    await t.test(`${name} set`, async (t) => {
      const dataDir = tempDir(t)
      const { env, newApiKeys } = await withDevSecrets({ [name]: given[name] }, dataDir)
      t.equal(env[name], given[name], 'kept as given')
      t.doesNotThrow(() => loadConfig(env), 'the result is a whole configuration')
      t.notOk(name in stored(dataDir), 'nothing generated for it')
      if (name === 'API_KEYS') t.same(newApiKeys, [], 'no keys to show')
      else t.equal(newApiKeys.length, 2)
    })
  }

  await t.test('all three set: nothing is written at all', async (t) => {
    const dataDir = tempDir(t)
    const { env, newApiKeys } = await withDevSecrets(given, dataDir)
    t.same(env, given)
    t.same(newApiKeys, [])
    t.notOk(existsSync(join(dataDir, DEV_SECRETS_FILE)))
  })

  await t.test('NAME_FILE counts as set', async (t) => {
    const dataDir = tempDir(t)
    const secretFile = join(dataDir, 'link-secrets')
    writeFileSync(secretFile, linkSecrets)
    const { env } = await withDevSecrets({ LINK_SECRETS_FILE: secretFile }, dataDir)
    t.equal(env.LINK_SECRETS, undefined, 'not filled: the file is read by loadConfig')
    t.equal(loadConfig(env).linkSecrets[0]?.kid, 9)
  })
})

t.test('API keys that were never shown are never configured', async (t) => {
  // First run with API_KEYS set; a later run without it must not fall back to keys generated in
  // the first run and never shown to anyone: that would lock the developer out of the API.
  const dataDir = tempDir(t)
  await withDevSecrets({ API_KEYS: generateApiKey('mine', 'admin').entry }, dataDir)
  const later = await withDevSecrets({}, dataDir)
  const apiKeys = new ApiKeys(loadConfig(later.env).apiKeys)
  t.equal(later.newApiKeys.length, 2, 'the keys in use are shown')
  for (const { key, role } of later.newApiKeys) t.equal(apiKeys.authenticate(key)?.role, role)
})

t.test('an existing file is completed, not replaced', async (t) => {
  const dataDir = tempDir(t)
  const linkSecrets = `5:${randomBytes(32).toString('base64url')}`
  writeFileSync(join(dataDir, DEV_SECRETS_FILE), JSON.stringify({ LINK_SECRETS: linkSecrets }), {
    mode: 0o644,
  })
  const { env, newApiKeys } = await withDevSecrets({}, dataDir)
  t.equal(env.LINK_SECRETS, linkSecrets, 'the stored secret is kept')
  t.equal(newApiKeys.length, 2)
  t.equal(statSync(join(dataDir, DEV_SECRETS_FILE)).mode & 0o777, 0o600, 'and tightened to 0600')
  t.doesNotThrow(() => loadConfig(env))
})

t.test('withStoredDevSecrets fills from the file and never writes', async (t) => {
  const dataDir = tempDir(t)
  const file = join(dataDir, DEV_SECRETS_FILE)
  const apiKeys = generateApiKey('mine', 'admin').entry
  await withDevSecrets({ API_KEYS: apiKeys }, dataDir)
  const before = readFileSync(file, 'utf8')

  const env = withStoredDevSecrets({ API_KEYS: apiKeys }, dataDir)
  t.equal(env.LINK_SECRETS, stored(dataDir).LINK_SECRETS)
  t.equal(env.API_KEYS, apiKeys, 'what the environment sets wins')
  t.doesNotThrow(() => loadConfig(env))

  // The file lacks API_KEYS (they were set when it was written): only that is named.
  const error = t.throws(() => withStoredDevSecrets({}, dataDir)) as ConfigError
  t.type(error, ConfigError)
  t.match(error.problems, [/^API_KEYS: not set, and .*dev-secrets\.json does not hold it\./])
  t.equal(readFileSync(file, 'utf8'), before, 'the file is unchanged')

  const given = { LINK_SECRETS: 'x', SESSION_KEYS: 'y', API_KEYS_FILE: 'z' }
  t.equal(withStoredDevSecrets(given, join(dataDir, 'absent')), given, 'nothing to fill: no read')
})

t.test('withStoredDevSecrets with no file names all three, and creates nothing', async (t) => {
  const dataDir = join(tempDir(t), 'data')
  const error = t.throws(() => withStoredDevSecrets({}, dataDir)) as ConfigError
  t.match(error.problems, [/^LINK_SECRETS, SESSION_KEYS, API_KEYS: not set/])
  t.notOk(existsSync(dataDir))
})

t.test('a file that is not a JSON object stops both, and is left for a person', async (t) => {
  for (const text of ['{not json', 'null', '[]', '"x"']) {
    const dataDir = tempDir(t)
    writeFileSync(join(dataDir, DEV_SECRETS_FILE), text)
    const message = /dev-secrets\.json: is not a JSON object of settings; fix or delete it/
    const generating = await withDevSecrets({}, dataDir).catch((error: unknown) => error)
    t.match(generating, { problems: [message] }, text)
    const reading = t.throws(() => withStoredDevSecrets({}, dataDir))
    t.match(reading, { problems: [message] }, text)
    t.equal(readFileSync(join(dataDir, DEV_SECRETS_FILE), 'utf8'), text)
  }
})
