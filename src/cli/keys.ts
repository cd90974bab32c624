import { randomBytes, randomInt } from 'node:crypto'
import { generateApiKey } from '../auth/api-keys.js'
import { type Env, resolveEnv } from '../config/index.js'
import { ConfigError } from '../errors.js'
import { generateSessionKey, type SessionAlgorithm } from '../sessions/jwt.js'

export async function keys(options: { alg: SessionAlgorithm }): Promise<void> {
  process.stdout.write(await freshKeys(process.env, options.alg))
}

/** The printed settings. Every id is random, so two rotations never name their keys alike. */
export async function freshKeys(env: Env, alg: SessionAlgorithm): Promise<string> {
  const kid = freshLinkKid(linkKidsInUse(env))
  const admin = generateApiKey('admin', 'admin')
  // No kid given: the key's JWK thumbprint (RFC 7638) names it, unique to the key.
  const sessionKey = await generateSessionKey({ alg })
  const lines = [
    `LINK_SECRETS=${kid}:${randomBytes(32).toString('base64url')}`,
    `SESSION_KEYS=${JSON.stringify([sessionKey])}`,
    `API_KEYS=${admin.entry}`,
    '',
    '# The admin API key that API_KEYS admits (store it; only its hash is configured):',
    `# ${admin.key}`,
  ]
  return `${lines.join('\n')}\n`
}

/**
 * The kids of the LINK_SECRETS the environment sets (directly or through LINK_SECRETS_FILE), so
 * the new secret can join them in a rotation. Entries that do not parse name no kid; the service
 * reports them when it loads them.
 */
export function linkKidsInUse(env: Env): Set<number> {
  const value = resolveEnv(env, []).LINK_SECRETS ?? ''
  const kids = new Set<number>()
  for (const entry of value.split(',')) {
    const kid = entry.trim().split(':')[0] ?? ''
    if (/^[0-9]{1,3}$/.test(kid)) kids.add(Number(kid))
  }
  return kids
}

/**
 * A link secret kid (one byte of every token) picked at random among 1–255 not in `used`. Random
 * rather than derived (from the date, or "the next one"): two sets printed apart, on one day or
 * from one configuration, then rarely name their secrets alike.
 */
export function freshLinkKid(used: ReadonlySet<number>, pick = randomInt): number {
  const free: number[] = []
  for (let kid = 1; kid <= 255; kid++) if (!used.has(kid)) free.push(kid)
  if (free.length === 0) {
    throw new ConfigError(['LINK_SECRETS: every kid from 1 to 255 is in use; remove old entries'])
  }
  return free[pick(free.length)] as number
}
