import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateApiKey } from './auth/api-keys.js'
import { type Env, GENERATED_IN_DEVELOPMENT } from './config/index.js'
import { ConfigError } from './errors.js'
import { generateSessionKey } from './sessions/jwt.js'

export const DEV_SECRETS_FILE = 'dev-secrets.json'

type Secret = (typeof GENERATED_IN_DEVELOPMENT)[number]
type Generated = Partial<Record<Secret, string>>

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
  const missing = missingSecrets(env)
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
  return { env: fill(env, missing, stored), newApiKeys }
}

/**
 * Development only, for the commands other than `serve`: fills what the environment does not set
 * from DATA_DIR/dev-secrets.json, and generates nothing. A command that generated secrets would
 * print API keys nobody asked for and leave a file that a later `serve` trusts; so when the file
 * lacks a setting too, it stops and says how to get one.
 */
export function withStoredDevSecrets(env: Env, dataDir: string): Env {
  const missing = missingSecrets(env)
  if (missing.length === 0) return env
  const file = join(dataDir, DEV_SECRETS_FILE)
  const stored = readStored(file)
  const lacking = missing.filter((name) => !stored[name])
  if (lacking.length > 0) {
    throw new ConfigError([
      `${lacking.join(', ')}: not set, and ${file} does not hold ${lacking.length > 1 ? 'them' : 'it'}. ` +
        'In development, start the service once with this DATA_DIR (`latchkey serve`) to ' +
        'generate them there; otherwise set LINK_SECRETS, SESSION_KEYS and API_KEYS (print a ' +
        'fresh set with `latchkey keys`).',
    ])
  }
  return fill(env, missing, stored)
}

/** The secrets the environment sets neither directly nor through NAME_FILE. */
function missingSecrets(env: Env): Secret[] {
  return GENERATED_IN_DEVELOPMENT.filter((name) => !env[name] && !env[`${name}_FILE`])
}

function fill(env: Env, missing: Secret[], stored: Generated): Env {
  const filled: Record<string, string | undefined> = { ...env }
  for (const name of missing) filled[name] = stored[name]
  return filled
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
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`${file}: is not a JSON object of settings; fix or delete it`])
  }
  return parsed as Generated
}
