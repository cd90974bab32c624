import { randomBytes } from 'node:crypto'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import { ApiKeys, generateApiKey } from '../../src/auth/api-keys.js'
import { freshKeys, freshLinkKid, linkKidsInUse } from '../../src/cli/keys.js'
import { loadConfig } from '../../src/config/index.js'
import { ConfigError } from '../../src/errors.js'
import { runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/temp.js'

const secret = () => randomBytes(32).toString('base64url')

/** VALUE of a `NAME=VALUE` line. */
function assignment(stdout: string, name: string): string | undefined {
  return stdout
    .split('\n')
    .find((l) => l.startsWith(`${name}=`))
    ?.slice(name.length + 1)
}

const sessionKeyOf = (stdout: string) =>
  (JSON.parse(assignment(stdout, 'SESSION_KEYS') ?? '[]') as Record<string, string>[])[0]

t.test('latchkey keys, twice: settings production accepts, named at random', async (t) => {
  const dataDir = tempDir(t)
  const [first, second] = await Promise.all([
    runCli(['keys'], { DATA_DIR: dataDir }),
    runCli(['keys'], { DATA_DIR: dataDir }),
  ])
  t.equal(first.code, 0, first.stderr)
  t.equal(second.code, 0, second.stderr)
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'production',
    MAIL_TRANSPORT: 'resend',
    RESEND_API_KEY: 're_test',
    MAIL_FROM: 'login@x.example',
    PUBLIC_URL: 'https://x.example',
    DATA_DIR: dataDir,
  }
  for (const name of ['LINK_SECRETS', 'SESSION_KEYS', 'API_KEYS']) {
    env[name] = assignment(first.stdout, name)
    t.ok(env[name], `${name}= is printed`)
  }
  const config = loadConfig(env)
  t.equal(config.production, true)
  t.equal(config.linkSecrets.length, 1)
  t.match(config.sessionKeys[0], { kty: 'EC', crv: 'P-256', alg: 'ES256' }, 'ES256 by default')
  t.equal(config.apiKeys[0]?.role, 'admin')

  // The admin key itself is printed once, as a comment, and is what API_KEYS admits.
  const key = first.stdout.match(/^# (lk_[A-Za-z0-9_-]+)$/m)?.[1]
  t.ok(key, 'the admin key is printed')
  t.same(new ApiKeys(config.apiKeys).authenticate(key ?? ''), { name: 'admin', role: 'admin' })
  t.notOk(env.API_KEYS?.includes(key ?? '-'), 'API_KEYS carries only the hash')
  t.same(readdirSync(dataDir), [], 'keys touches nothing in DATA_DIR')

  // Two rotations on one day: the session keys' kids differ (a date would have named both).
  const kids = [sessionKeyOf(first.stdout)?.kid, sessionKeyOf(second.stdout)?.kid]
  t.ok(kids[0] && kids[1], 'each session key has a kid')
  t.not(kids[0], kids[1], 'the session key kids differ')
  t.notMatch(kids[0] ?? '', /\d{4}-\d{2}-\d{2}/, 'not a date')
  t.not(assignment(first.stdout, 'LINK_SECRETS'), assignment(second.stdout, 'LINK_SECRETS'))
})

t.test('latchkey keys --alg EdDSA prints an Ed25519 (OKP) session key', async (t) => {
  const run = await runCli(['keys', '--alg', 'EdDSA'], {})
  t.equal(run.code, 0, run.stderr)
  const key = sessionKeyOf(run.stdout)
  t.match(key, { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
  const config = loadConfig({
    LINK_SECRETS: `1:${secret()}`,
    SESSION_KEYS: assignment(run.stdout, 'SESSION_KEYS'),
    API_KEYS: generateApiKey('ops', 'admin').entry,
  })
  t.equal(config.sessionKeys[0]?.kid, key?.kid, 'the configuration accepts it')
})

t.test('the new LINK_SECRETS kid is one the configured LINK_SECRETS do not use', async (t) => {
  // With every kid but 200 taken, 200 is the only answer; LINK_SECRETS_FILE counts as well.
  const taken = Array.from({ length: 255 }, (_, i) => i + 1).filter((kid) => kid !== 200)
  const entries = taken.map((kid) => `${kid}:${secret()}`).join(',')
  const file = join(tempDir(t), 'link-secrets')
  writeFileSync(file, `${entries}\n`)
  for (const env of [{ LINK_SECRETS: entries }, { LINK_SECRETS_FILE: file }]) {
    const printed = await freshKeys(env, 'ES256')
    t.match(assignment(printed, 'LINK_SECRETS'), /^200:[A-Za-z0-9_-]{43}$/, JSON.stringify(env))
  }
})

t.test('freshLinkKid picks any free kid in 1..255', (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { maxLength: 255 }),
      fc.nat(),
      (used, seed) => {
        const usedSet = new Set(used)
        const free = 255 - used.filter((kid) => kid >= 1).length
        fc.pre(free > 0)
        let offered = 0
        const kid = freshLinkKid(usedSet, (n) => {
          offered = n
          return seed % n
        })
        return offered === free && kid >= 1 && kid <= 255 && !usedSet.has(kid)
      },
    ),
  )
  const all = new Set(Array.from({ length: 255 }, (_, i) => i + 1))
  t.throws(() => freshLinkKid(all), ConfigError, 'none left: a message')
  t.end()
})

t.test('linkKidsInUse reads the kids of well-formed entries only', (t) => {
  t.same([...linkKidsInUse({})], [])
  t.same(
    [...linkKidsInUse({ LINK_SECRETS: ' 7:abc , 12:def,x:y,,300:z' })].sort((a, b) => a - b),
    [7, 12, 300],
  )
  fc.assert(
    fc.property(fc.string(), (value) =>
      [...linkKidsInUse({ LINK_SECRETS: value })].every((kid) => Number.isInteger(kid) && kid >= 0),
    ),
  )
  t.end()
})
