/**
 * The service under soak or fuzz, seen from the load generator: its configuration and keys, made
 * here, the server process forked (bench/soak-server.ts), its samples and its end. Everything
 * lives in a temporary directory that is removed when the process ends.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateApiKey } from '../src/auth/api-keys.js'
import { type Config, loadConfig } from '../src/config/index.js'
import { generateSessionKey } from '../src/sessions/jwt.js'
import { KeyRing } from '../src/tokens/keyring.js'
import { messagesOf } from './ipc.js'
import type { Sample, ServerMessage } from './soak-server.js'

export const HOST = '127.0.0.1'
export const PUBLIC_URL = 'https://login.soak.test'

export interface ServerOptions {
  /** Settings on top of the harness's own (rate limits, TRUST_PROXY …). */
  env: Record<string, string>
  sampleMs: number
  /** SOAK_FAULT for the server: a failure put in on purpose (see bench/soak-server.ts). */
  fault?: string | undefined
}

export type Received = Sample & { receivedAt: number }

export interface SoakServer {
  url: string
  config: Config
  /** The link-token keys of the running service: the load generator mints tokens as it would. */
  keyring: KeyRing
  keys: { service: string; admin: string }
  /** A resend webhook secret (whsec_…), so signed callbacks can be sent. */
  webhookSecret: string
  /** What the server measured of itself, each with the time it arrived (performance.now()). */
  samples: Received[]
  /** Undefined while the process runs; how it ended otherwise. */
  exit(): string | undefined
  /** Closes the server; its RSS then, its peak RSS (KiB) and how many requests it saw. */
  stop(): Promise<{ rssBytes: number; maxRssKiB: number; requests: number }>
}

const dataDirs: string[] = []
const children: ChildProcess[] = []

/** Ends every server still running and removes the data; safe to call more than once. */
export function cleanUp(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill()
  }
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanUp()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  })
}

export async function startServer(options: ServerOptions): Promise<SoakServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-soak-'))
  dataDirs.push(dataDir)
  const service = generateApiKey('soak', 'service')
  const admin = generateApiKey('soak-admin', 'admin')
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`
  const latchkeyEnv = {
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    PUBLIC_URL,
    LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
    SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 'soak-key' })]),
    API_KEYS: `${service.entry},${admin.entry}`,
    RESEND_WEBHOOK_SECRET: webhookSecret,
    LOG_LEVEL: 'silent',
    // The log transport prints each email: the server's stdout goes nowhere (see below).
    MAIL_TRANSPORT: 'log',
    ...options.env,
  }
  const config = loadConfig(latchkeyEnv)
  const keyring = new KeyRing(
    config.linkSecrets.map((s) => ({ kid: s.kid, secret: Buffer.from(s.secret, 'base64url') })),
  )

  const child = fork(fileURLToPath(new URL('./soak-server.ts', import.meta.url)), [], {
    env: {
      ...process.env,
      SOAK_LATCHKEY_ENV: JSON.stringify(latchkeyEnv),
      SOAK_SAMPLE_MS: String(options.sampleMs),
      SOAK_FAULT: options.fault ?? '',
    },
    // stdout carries the emails of the log transport, which nobody reads; stderr is the server's.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  children.push(child)
  const samples: Received[] = []
  child.on('message', (message: ServerMessage) => {
    if (message.type === 'sample') samples.push({ ...message, receivedAt: performance.now() })
  })
  let ended: string | undefined
  child.once('exit', (code, signal) => {
    ended = signal ? `killed by ${signal}` : `exited with code ${code}`
  })
  const { port } = await nextMessage(child, 'ready')

  return {
    url: `http://${HOST}:${port}`,
    config,
    keyring,
    keys: { service: service.key, admin: admin.key },
    webhookSecret,
    samples,
    exit: () => ended,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      const stopped = nextMessage(child, 'stopped')
      child.send({ type: 'stop' })
      const { rssBytes, maxRssKiB, requests } = await stopped
      await exited
      return { rssBytes, maxRssKiB, requests }
    },
  }
}

const nextMessage = messagesOf<ServerMessage>('the soak server')

/** A positive integer from the environment, or the fallback. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a positive integer`)
  return Number(raw)
}

export const out = (text = ''): void => void process.stdout.write(`${text}\n`)
export const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)
