import t from 'tap'
import { decodeToken } from '../../src/tokens/codec.js'
import { runCli, secretsEnv } from '../helpers/cli.js'
import { tempDir } from '../helpers/temp.js'

const LINE = /^\d{4}-\d\d-\d\dT\S+Z {2}\S+ {2}\S+/

t.test("audit prints a user's trail, newest first, by type and limit", async (t) => {
  const dataDir = tempDir(t)
  const env = { ...(await secretsEnv()), DATA_DIR: dataDir, LOG_LEVEL: 'silent' }
  const link = await runCli(['link', 'someone@example.com'], env)
  const token = new URL(link.stdout.trim()).searchParams.get('token') ?? ''
  const { userId } = decodeToken(token).fields
  t.equal((await runCli(['revoke', userId], env)).code, 0)

  const all = await runCli(['audit', '--user', userId.toUpperCase()], env)
  t.equal(all.code, 0, all.stderr)
  const lines = all.stdout.trimEnd().split('\n')
  t.equal(lines.length, 3)
  for (const line of lines) t.match(line, LINE)
  t.match(lines[0], / {2}user\.revoked {2}cli {2}user=\S+ {2}\{"reason":"revoked","rev":1\}$/)
  t.match(lines[1], / {2}link\.issued {2}cli {2}user=\S+ {2}\{"purpose":"login","delivery":"none",/)
  t.match(lines[2], / {2}user\.created {2}cli {2}user=\S+ {2}\{"created_by":"api"\}$/)
  t.notOk(all.stdout.includes(token), 'never the link')

  const created = await runCli(['audit', '--user', userId, '--type', 'user.created'], env)
  t.equal(created.stdout.trimEnd().split('\n').length, 1)
  const one = await runCli(['audit', '--user', userId, '--limit', '1'], env)
  t.match(one.stdout, /user\.revoked/)
  t.match(one.stderr, /before=/, 'says there is more')

  const bad = await runCli(['audit', '--user', userId, '--type', 'user'], env)
  t.equal(bad.code, 1)
  t.match(bad.stderr, /^latchkey: type must be/)
  const missing = await runCli(['audit'], env)
  t.not(missing.code, 0)
  t.match(missing.stderr, /--user/)
})
