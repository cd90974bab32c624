import t from 'tap'
import { runCli, secretsEnv } from '../helpers/cli.js'
import { isolated, REDIS_URL } from '../helpers/redis.js'
import { tempDir } from '../helpers/temp.js'

// The command line is wired as the service is: an email it sends spends the address's budget, in
// Redis (shared with every instance) when REDIS_URL is set. Each command is a process of its own,
// so only a shared store can show the second one refused.

const cli = (dataDir: string, args: string[], env: Record<string, string>) =>
  runCli(args, {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PUBLIC_URL: 'http://login.test:8080',
    ...env,
  })

t.test('link --send spends the address’s email budget, shared with the service', async (t) => {
  const { redis, prefix } = await isolated(t)
  const dataDir = tempDir(t)
  const env = {
    ...(await secretsEnv()),
    MAIL_TRANSPORT: 'log',
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    RATE_LIMIT_RECIPIENT: '1/15m',
  }
  const first = await cli(dataDir, ['link', 'someone@example.com', '--send'], env)
  t.equal(first.code, 0, first.stderr)
  const counters = await redis.keys(`${prefix}rl:to:*`)
  t.equal(counters.length, 1, 'counted in Redis, where the service counts')
  t.equal(await redis.get(counters[0] ?? ''), '1')
  t.notMatch(counters[0] ?? '', /someone/, 'by a keyed hash, never the address')

  const again = await cli(dataDir, ['link', 'someone@example.com', '--send'], env)
  t.equal(again.code, 1)
  t.equal(again.stdout, '', 'no email, no link')
  t.equal(again.stderr, 'latchkey: Too many sign-in emails were requested for this address.\n')
})
