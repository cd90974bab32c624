import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { type AppOverrides, buildApp } from '../../src/app.js'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { type Config, type Env, loadConfig } from '../../src/config/index.js'
import type { App } from '../../src/http/types.js'
import type { MailMessage } from '../../src/mail/mailer.js'
import { generateSessionKey } from '../../src/sessions/jwt.js'

/** One set of keys for the whole test process: generating keys per test is wasted time. */
const sessionKey = await generateSessionKey({ kid: 'test-key' })
export const linkSecret = randomBytes(32).toString('base64url')
export const serviceKey = generateApiKey('svc', 'service')
export const adminKey = generateApiKey('ops', 'admin')

export const PUBLIC_URL = 'https://login.example.test'

/** A temporary DATA_DIR, removed by the caller's teardown. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'latchkey-test-'))
}

/** A complete configuration for tests: real SQLite file under dataDir, fixed keys, no limits. */
export function testConfig(dataDir: string, env: Env = {}): Config {
  return loadConfig({
    DATA_DIR: dataDir,
    PUBLIC_URL,
    LINK_SECRETS: `1:${linkSecret}`,
    SESSION_KEYS: JSON.stringify([sessionKey]),
    API_KEYS: `${serviceKey.entry},${adminKey.entry}`,
    LOG_LEVEL: 'info',
    ALLOWED_REDIRECTS: 'https://app.example.test',
    // Tests send many requests from one address and many emails to one person; the rate-limit
    // tests turn the limits they test on.
    RATE_LIMIT_IP: 'off',
    RATE_LIMIT_API_KEY: 'off',
    RATE_LIMIT_RECIPIENT: 'off',
    RATE_LIMIT_FORM_IP: 'off',
    ...env,
  })
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public ms = Date.UTC(2030, 0, 1)) {}
  readonly now = (): number => this.ms
  advance(seconds: number): void {
    this.ms += seconds * 1000
  }
}

export interface TestApp {
  app: App
  config: Config
  dataDir: string
  clock: ManualClock
  mail: MailMessage[]
  /** Every log line the app wrote, raw. */
  logs: string[]
  close(): Promise<void>
}

export interface TestAppOptions {
  env?: Env
  dataDir?: string
  clock?: ManualClock
  overrides?: AppOverrides
}

/**
 * A real app on a real SQLite file, driven with app.inject. Mail is captured, logs are captured,
 * time is a ManualClock. `close` removes the data directory unless the caller passed its own.
 */
export async function startApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? tempDir()
  const config = testConfig(dataDir, options.env)
  const clock = options.clock ?? new ManualClock()
  const mail: MailMessage[] = []
  const logs: string[] = []
  const app = await buildApp(config, {
    clock: clock.now,
    mailer: {
      send: async (m) => {
        mail.push(m)
        return {}
      },
    },
    logStream: new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk))
        done()
      },
    }),
    ...options.overrides,
    // Tests send explicitly (app.outbox.runOnce()), so nothing happens behind their back.
    outbox: { autoStart: false, ...options.overrides?.outbox },
  })
  return {
    app,
    config,
    dataDir,
    clock,
    mail,
    logs,
    async close() {
      await app.close()
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export const asService = { authorization: `Bearer ${serviceKey.key}` }
export const asAdmin = { authorization: `Bearer ${adminKey.key}` }

/** The token inside a link URL. */
export function tokenOf(link: string): string {
  return new URL(link).searchParams.get('token') as string
}
