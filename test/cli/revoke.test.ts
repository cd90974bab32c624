import t from 'tap'
import { decodeToken } from '../../src/tokens/codec.js'
import { runCli, secretsEnv } from '../helpers/cli.js'
import { tempDir } from '../helpers/temp.js'

const STACK = /\n\s+at /

t.test('revoke ends a user, and an unknown id fails with a message', async (t) => {
  const dataDir = tempDir(t)
  const env = { ...(await secretsEnv()), DATA_DIR: dataDir, LOG_LEVEL: 'silent' }
  const [unknown, link] = await Promise.all([
    runCli(['revoke', '0190b5a4-7c3e-7d1a-9f0e-1a2b3c4d5e6f'], env),
    runCli(['link', 'someone@example.com'], env),
  ])
  t.equal(unknown.code, 1)
  t.equal(unknown.stderr, 'latchkey: No user has this id.\n', 'a message, not a stack trace')

  const token = new URL(link.stdout.trim()).searchParams.get('token') ?? ''
  const { userId } = decodeToken(token).fields
  const revoked = await runCli(['revoke', userId.toUpperCase()], env)
  t.equal(revoked.code, 0, revoked.stderr)
  t.equal(revoked.stdout, `Revoked user ${userId}; rev is now 1.\n`)
  t.notMatch(unknown.stderr + revoked.stderr, STACK)
})
