import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateApiKey } from './auth/api-keys.js'
import { type Env, GENERATED_IN_DEVELOPMENT } from './config.js'
import { ConfigError } from './errors.js'
import { generateSessionKey } from './sessions/jwt.js'

export const DEV_SECRETS_FILE = 'dev-secrets.json'

type Generated = Partial<Record<(typeof GENERATED_IN_DEVELOPMENT)[number], string>>

/**
 * Development only: fills LINK_SECRETS, SESSION_KEYS and API_KEYS that the environment does not
 * set from DATA_DIR/dev-secrets.json (mode 0600), generating what that file lacks. Only hashes of
 * API keys are stored; a key generated now is returned so the caller can print it once.
 * Production never comes here: config refuses to start without these settings.
 */
export async function withDevSecrets(
  env: Env,
  dataDir: string,
): Promise<{ env: Env; newApiKeys: { name: string; role: string; key: string }[] }> {
  const missing = GENERATED_IN_DEVELOPMENT.filter((name) => !env[name] && !env[`${name}_FILE`])
  if (missing.length === 0) return { env, newApiKeys: [] }

  const file = join(dataDir, DEV_SECRETS_FILE)
  const stored = readStored(file)
  const newApiKeys: { name: string; role: string; key: string }[] = []
  let changed = false
  // Only what the environment lacks is generated: a key generated beside a configured one would
  // be stored unseen and silently take over on a later start without it.
  if (missing.includes('LINK_SECRETS') && !stored.LINK_SECRETS) {
    stored.LINK_SECRETS = `1:${randomBytes(32).toString('base64url')}`
    changed = true
  }
  if (missing.includes('SESSION_KEYS') && !stored.SESSION_KEYS) {
    stored.SESSION_KEYS = JSON.stringify([await generateSessionKey()])
    changed = true
  }
  if (missing.includes('API_KEYS') && !stored.API_KEYS) {
    const entries = (['admin', 'service'] as const).map((role) => {
      const { key, entry } = generateApiKey(`dev-${role}`, role)
      newApiKeys.push({ name: `dev-${role}`, role, key })
      return entry
    })
    stored.API_KEYS = entries.join(',')
    changed = true
  }
  if (changed) {
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 })
    chmodSync(file, 0o600)
  }
  const filled: Record<string, string | undefined> = { ...env }
  for (const name of missing) filled[name] = stored[name]
  return { env: filled, newApiKeys }
}

/** A missing file is an empty one; an unreadable or corrupt one stops the start, never replaced. */
function readStored(file: string): Generated {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new ConfigError([`${file}: cannot be read (${(error as Error).message})`])
  }
  try {
    return JSON.parse(text) as Generated
  } catch {
    throw new ConfigError([`${file}: is not valid JSON; fix or delete it`])
  }
}
