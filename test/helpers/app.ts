import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import { type AppOverrides, buildApp } from '../../src/app.js'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { type Config, type Env, loadConfig } from '../../src/config/index.js'
import type { App } from '../../src/http/types.js'
import type { MailMessage } from '../../src/mail/mailer.js'
import { generateSessionKey } from '../../src/sessions/jwt.js'
import { ManualClock } from './clock.js'
import { tempDir as scratchDir } from './temp.js'

/** One set of keys for the whole test process: generating keys per test is wasted time. */
const sessionKey = await generateSessionKey({ kid: 'test-key' })
export const linkSecret = randomBytes(32).toString('base64url')
export const serviceKey = generateApiKey('svc', 'service')
export const adminKey = generateApiKey('ops', 'admin')

export const PUBLIC_URL = 'https://login.example.test'

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

export interface TestApp {
  app: App
  config: Config
  dataDir: string
  clock: ManualClock
  mail: MailMessage[]
  /** Every log line the app wrote, raw. */
  logs: string[]
  /** Closes the app now (a restart test); the teardown then has nothing left to do. */
  close(): Promise<void>
}

export interface TestAppOptions {
  env?: Env
  /** A DATA_DIR the test shares between apps; a fresh one, removed at teardown, by default. */
  dataDir?: string
  clock?: ManualClock
  overrides?: AppOverrides
}

/**
 * A real app on a real SQLite file, driven with app.inject, closed at the test's teardown (as
 * fastify's own `build(t)`). Mail is captured, logs are captured, time is a ManualClock.
 */
export async function build(t: Test, options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? scratchDir(t)
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
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= app.close()
    return closed
  }
  t.teardown(close)
  return { app, config, dataDir, clock, mail, logs, close }
}

/** Listens on a free loopback port, for a test that needs a real socket; the port. */
export async function listenLocal(app: App): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

export const asService = { authorization: `Bearer ${serviceKey.key}` }
export const asAdmin = { authorization: `Bearer ${adminKey.key}` }

/** The token inside a link URL. */
export function tokenOf(link: string): string {
  return new URL(link).searchParams.get('token') as string
}
