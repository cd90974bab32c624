import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { commandConfig } from '../../src/cli/deps.js'
import { DEV_SECRETS_FILE, withDevSecrets } from '../../src/dev-secrets.js'
import { ConfigError } from '../../src/errors.js'
import { tempDir } from '../helpers/temp.js'

t.test(
  'in development, a command uses the secrets the service stored, and writes nothing',
  async (t) => {
    const dataDir = tempDir(t)
    const { env: stored } = await withDevSecrets({}, dataDir)
    const before = readFileSync(join(dataDir, DEV_SECRETS_FILE), 'utf8')
    const config = commandConfig({ DATA_DIR: dataDir })
    t.equal(config.linkSecrets[0]?.secret, stored.LINK_SECRETS?.split(':')[1])
    t.equal(config.apiKeys.length, 2)
    t.equal(readFileSync(join(dataDir, DEV_SECRETS_FILE), 'utf8'), before, 'the file is unchanged')
  },
)

t.test('with nothing stored, a command stops and says what to do', async (t) => {
  const dataDir = join(tempDir(t), 'data')
  const error = t.throws(() => commandConfig({ DATA_DIR: dataDir })) as ConfigError
  t.type(error, ConfigError)
  t.match(
    error.problems[0],
    /^LINK_SECRETS, SESSION_KEYS, API_KEYS: not set, and .* does not hold them\./,
  )
  t.match(error.problems[0], /start the service once with this DATA_DIR \(`latchkey serve`\)/)
  t.match(error.problems[0], /set LINK_SECRETS, SESSION_KEYS and API_KEYS .*`latchkey keys`/)
  t.notOk(existsSync(dataDir), 'DATA_DIR is not even created')
})

t.test('in production the environment is the only source', async (t) => {
  const dataDir = tempDir(t)
  await withDevSecrets({}, dataDir)
  const error = t.throws(() =>
    commandConfig({ NODE_ENV: 'production', DATA_DIR: dataDir, PUBLIC_URL: 'https://x.example' }),
  ) as ConfigError
  t.type(error, ConfigError)
  t.ok(
    error.problems.some((p) => p.startsWith('LINK_SECRETS: missing, and production needs it')),
    'stored ones are ignored',
  )
})
