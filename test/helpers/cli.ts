import { randomBytes } from 'node:crypto'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { generateSessionKey } from '../../src/sessions/jwt.js'
import { childEnv, LATCHKEY, type Ran, run } from './process.js'

/**
 * Runs the real `latchkey …args` with exactly the settings given: a developer's exported settings
 * never leak in. Resolves whatever the exit code.
 */
export function runCli(args: string[], env: Record<string, string | undefined>): Promise<Ran> {
  const [node, argv] = LATCHKEY(args)
  return run(node, argv, { env: childEnv(env, { clean: true }) })
}

/** LINK_SECRETS, SESSION_KEYS and API_KEYS, as an operator sets them for a command. */
export async function secretsEnv(): Promise<Record<string, string>> {
  return {
    LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
    SESSION_KEYS: JSON.stringify([await generateSessionKey()]),
    API_KEYS: generateApiKey('ops', 'admin').entry,
  }
}
