import { readdirSync } from 'node:fs'
import t from 'tap'
import { runCli, secretsEnv } from '../helpers/cli.js'
import { tempDir } from '../helpers/temp.js'

t.test('migrate brings the database up to date, and writes no development secrets', async (t) => {
  const dataDir = tempDir(t)
  const run = await runCli(['migrate'], {
    ...(await secretsEnv()),
    DATA_DIR: dataDir,
    // A command that sends no email counts nothing: it neither waits for Redis nor warns.
    REDIS_URL: 'redis://127.0.0.1:1',
  })
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stderr, '', 'not a word about Redis')
  t.equal(run.stdout, 'Migrations are up to date.\n')
  t.same(readdirSync(dataDir), ['latchkey.db'])
})

t.test('a database that cannot be reached is one line, not a stack trace', async (t) => {
  const run = await runCli(['migrate'], {
    ...(await secretsEnv()),
    DATA_DIR: tempDir(t),
    // Nothing listens on port 1.
    DATABASE_URL: 'postgres://postgres@127.0.0.1:1/latchkey',
  })
  t.equal(run.code, 1)
  t.match(run.stderr, /^latchkey: .*ECONNREFUSED.*\n$/)
  t.notMatch(run.stderr, /\n\s+at /)
})
