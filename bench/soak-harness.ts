/**
 * The service under soak or fuzz, seen from the load generator: its configuration and keys, made
 * here, and latchkey from its build in a plain-node process of its own (bench/servers.mjs, role
 * soak), which reports its samples and its end. Its data lives in a temporary directory that is
 * removed when the run ends.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateApiKey } from '../src/auth/api-keys.js'
import { type Config, loadConfig } from '../src/config/index.js'
import type { KeyRing } from '../src/tokens/keyring.js'
import { type Server, startServer } from './children.js'
import { freshSecrets, linkKeyRing } from './latchkey.js'
import { DATABASE_URL, POSTGRES } from './options.js'
import { atExit } from './run.js'

export const PUBLIC_URL = 'https://login.soak.test'

export interface ServerOptions {
  /** Settings on top of the harness's own (rate limits, TRUST_PROXY …). */
  env: Record<string, string>
  sampleMs: number
  /** SOAK_FAULT for the server: a failure put in on purpose (BENCH_FAULT in bench/servers.mjs). */
  fault?: string | undefined
}

export interface SoakServer extends Server {
  config: Config
  /** The link-token keys of the running service: the load generator mints tokens as it would. */
  keyring: KeyRing
  keys: { service: string; admin: string }
  /** A resend webhook secret (whsec_…), so signed callbacks can be sent. */
  webhookSecret: string
}

export async function startSoakServer(options: ServerOptions): Promise<SoakServer> {
  // The store settings bench/options.ts reads are the bench's: refused, not quietly ignored.
  if (POSTGRES || DATABASE_URL) {
    throw new Error('the soak and the fuzz run on SQLite only (--postgres is for npm run bench)')
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-soak-'))
  atExit(() => rmSync(dataDir, { recursive: true, force: true }))
  const service = generateApiKey('soak', 'service')
  const admin = generateApiKey('soak-admin', 'admin')
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`
  const latchkeyEnv = {
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    PUBLIC_URL,
    ...(await freshSecrets('soak')),
    API_KEYS: `${service.entry},${admin.entry}`,
    RESEND_WEBHOOK_SECRET: webhookSecret,
    LOG_LEVEL: 'silent',
    // The log transport prints each email: the server's stdout goes nowhere.
    MAIL_TRANSPORT: 'log',
    ...options.env,
  }
  const config = loadConfig(latchkeyEnv)
  const server = await startServer('soak', {
    BENCH_LATCHKEY_ENV: JSON.stringify(latchkeyEnv),
    BENCH_SAMPLE_MS: String(options.sampleMs),
    BENCH_FAULT: options.fault ?? '',
  })
  return {
    ...server,
    config,
    keyring: linkKeyRing(config),
    keys: { service: service.key, admin: admin.key },
    webhookSecret,
  }
}
