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

/** Runs `fn` with the use cases' dependencies, closing the store afterwards. */
export async function withDeps<T>(fn: (deps: AuthDeps) => Promise<T>): Promise<T> {
  const deps = await buildDeps(commandConfig())
  try {
    return await fn(deps)
  } finally {
    await deps.store.close()
  }
}
