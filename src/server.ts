import { buildApp } from './app.js'
import { type Config, type Env, loadConfig } from './config/index.js'
import { withDevSecrets } from './dev-secrets.js'
import { LatchkeyError } from './errors.js'

/**
 * The configuration from the process environment. In development, secrets the environment does
 * not give are generated into DATA_DIR; API keys generated now are printed once, here.
 */
export async function configFromEnv(env: Env = process.env): Promise<Config> {
  if (env.NODE_ENV === 'production') return loadConfig(env)
  const dataDir = env.DATA_DIR?.trim() || './data'
  const { env: filled, newApiKeys } = await withDevSecrets(env, dataDir)
  if (newApiKeys.length > 0) {
    process.stderr.write(
      [
        '',
        'latchkey generated development API keys. They are shown this once; only their hashes',
        `are kept (in ${dataDir}). Set API_KEYS to use your own.`,
        ...newApiKeys.map((k) => `  ${k.role.padEnd(8)} ${k.key}`),
        '',
        '',
      ].join('\n'),
    )
  }
  return loadConfig(filled)
}

/** Starts the service and stops it cleanly on SIGINT/SIGTERM, finishing requests in flight. */
export async function serve(env: Env = process.env): Promise<void> {
  let config: Config
  try {
    config = await configFromEnv(env)
  } catch (error) {
    if (error instanceof LatchkeyError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  const app = await buildApp(config)
  let closing = false
  const close = async (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    const timer = setTimeout(() => process.exit(1), 10_000)
    timer.unref()
    await app.close()
    process.exit(0)
  }
  process.once('SIGINT', () => void close('SIGINT'))
  process.once('SIGTERM', () => void close('SIGTERM'))
  await app.listen({ port: config.port, host: config.host })
  app.log.info({ publicUrl: config.publicUrl }, 'latchkey is ready')
}
