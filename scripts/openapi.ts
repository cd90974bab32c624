import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../src/app.js'
import { generateApiKey } from '../src/auth/api-keys.js'
import { loadConfig } from '../src/config.js'
import { generateSessionKey } from '../src/sessions/jwt.js'

/**
 * The OpenAPI document as the route schemas describe it. Built from a throwaway app (in-memory
 * database, fresh keys): nothing in the document depends on configuration.
 */
export async function renderOpenApi(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-openapi-'))
  const app = await buildApp(
    loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: ':memory:',
      LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
      SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 'openapi' })]),
      API_KEYS: generateApiKey('openapi', 'admin').entry,
      LOG_LEVEL: 'silent',
    }),
  )
  try {
    return `${app.swagger({ yaml: true }).trimEnd()}\n`
  } finally {
    await app.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
