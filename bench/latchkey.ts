/**
 * latchkey as the bench runs it: its settings (fresh secrets and keys, the chosen store, logging
 * off, every limit at its default) and the login tokens the load generator mints for bench users,
 * as issueLink would, each when its request is built, so none can expire however long the run.
 */
import { randomBytes } from 'node:crypto'
import { generateApiKey } from '../src/auth/api-keys.js'
import { type Config, loadConfig } from '../src/config/index.js'
import { generateSessionKey } from '../src/sessions/jwt.js'
import { Flag, Purpose } from '../src/tokens/codec.js'
import { KeyRing } from '../src/tokens/keyring.js'
import type { BenchStore } from './database.js'
import type { BenchUser } from './seed.js'

/** What the signing floor (bench/servers.mjs) signs with: latchkey's own session settings. */
interface SigningSettings {
  jwk: { kid: string }
  issuer: string
  audience: string
  ttl: number
}

export interface Latchkey {
  config: Config
  /** The environment of the latchkey server child: its settings. */
  serverEnv: Record<string, string>
  /** What the signing floor signs: the same key, issuer, audience and lifetime. */
  signingEnv: Record<string, string>
  /** A backend's headers: its API key, and JSON bodies. */
  headers: Record<string, string>
  /** A login token for the user as the store holds them (one-time: for their current seq). */
  mintLogin(user: BenchUser, oneTime: boolean): string
  /** A well-formed login token under the right kid whose MAC is wrong (another secret made it). */
  forgeLogin(user: BenchUser): string
}

export async function benchLatchkey(store: BenchStore): Promise<Latchkey> {
  const serviceKey = generateApiKey('bench', 'service')
  const settings = {
    ...store.env,
    PUBLIC_URL: 'https://login.bench.test',
    ...(await freshSecrets('bench')),
    API_KEYS: serviceKey.entry,
    LOG_LEVEL: 'silent',
    // As in production, where the interactive API console is off unless asked for.
    DOCS: 'off',
    // The per-key limit stays on at its default, as in production: its cost is part of what is
    // measured, and a run that reached it would fail on its 429s (the default is meant to be
    // out of reach of one instance at full load; see src/config/rate-settings.ts).
  }
  const config = loadConfig(settings)
  const keyring = linkKeyRing(config)
  // Same kid, another secret: the token decodes and names a real user, and only its MAC is wrong.
  const forger = new KeyRing([{ kid: keyring.signingKid, secret: randomBytes(32) }])
  const mint = (ring: KeyRing, user: BenchUser, oneTime: boolean): string =>
    ring.mint({
      purpose: Purpose.Login,
      flags: oneTime ? Flag.OneTime : 0,
      userId: user.id,
      expiresAt: Math.floor(Date.now() / 1000) + config.linkTtl,
      rev: user.rev,
      seq: oneTime ? user.seq : 0,
    })
  const signing: SigningSettings = {
    jwk: config.sessionKeys[0] as SigningSettings['jwk'],
    issuer: config.publicUrl,
    audience: config.sessionAudience,
    ttl: config.sessionTtl,
  }
  return {
    config,
    serverEnv: { BENCH_LATCHKEY_ENV: JSON.stringify(settings) },
    signingEnv: { BENCH_SIGNING: JSON.stringify(signing) },
    headers: { authorization: `Bearer ${serviceKey.key}`, 'content-type': 'application/json' },
    mintLogin: (user, oneTime) => mint(keyring, user, oneTime),
    forgeLogin: (user) => mint(forger, user, false),
  }
}

/** A fresh link secret and session key (kid `<name>-key`): latchkey's settings for one run. */
export async function freshSecrets(
  name: string,
): Promise<{ LINK_SECRETS: string; SESSION_KEYS: string }> {
  return {
    LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
    SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: `${name}-key` })]),
  }
}

/** The service's own link-token keys, read from its configuration: what it mints, minted here. */
export function linkKeyRing(config: Config): KeyRing {
  return new KeyRing(
    config.linkSecrets.map((s) => ({ kid: s.kid, secret: Buffer.from(s.secret, 'base64url') })),
  )
}
