import { buildDeps } from '../app.js'
import type { AuthDeps } from '../auth/deps.js'
import { type Config, type Env, loadConfig } from '../config/index.js'
import { withStoredDevSecrets } from '../dev-secrets.js'

/**
 * The configuration of a command other than `serve`. Unlike the service's (server.ts), it never
 * generates development secrets: it uses the environment, or in development what the service
 * stored in DATA_DIR, and otherwise stops saying what to do.
 */
export function commandConfig(env: Env = process.env): Config {
  if (env.NODE_ENV?.trim() === 'production') return loadConfig(env)
  return loadConfig(withStoredDevSecrets(env, env.DATA_DIR?.trim() || './data'))
}

/** What a command has to say goes to stderr, one line each; stdout is the command's answer. */
export const stderrLogger = {
  info: () => undefined,
  warn: (_fields: object, message: string) => void process.stderr.write(`${message}\n`),
  error: (_fields: object, message: string) => void process.stderr.write(`${message}\n`),
}

/**
 * Runs `fn` with the use cases' dependencies, wired as the service's are: an email asked for at
 * the command line spends the address's budget like any other (in Redis, shared with the
 * service, when REDIS_URL is set). A command that sends no email (`sendsEmail: false`) counts
 * nothing, so it does not connect to Redis. The store and the limits are closed afterwards.
 */
export async function withDeps<T>(
  fn: (deps: AuthDeps) => Promise<T>,
  { sendsEmail }: { sendsEmail: boolean },
): Promise<T> {
  const deps = await buildDeps(commandConfig(), { sharedCounters: sendsEmail }, stderrLogger)
  try {
    return await fn(deps)
  } finally {
    await deps.limits.close()
    await deps.store.close()
  }
}
