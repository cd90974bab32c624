import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { buildApp } from '../src/app.js'
import { generateApiKey } from '../src/auth/api-keys.js'
import { loadConfig } from '../src/config/index.js'
import { generateSessionKey } from '../src/sessions/jwt.js'

/**
 * The committed document serves every deployment, so its server is a variable to fill in (a
 * running service's `/docs` names its own PUBLIC_URL instead).
 */
const SERVERS = [
  {
    url: '{publicUrl}',
    description: 'A latchkey instance',
    variables: {
      publicUrl: { default: 'http://localhost:3000', description: 'Its PUBLIC_URL' },
    },
  },
]

/**
 * The OpenAPI document as the route schemas describe it. Built from a throwaway app (in-memory
 * database, fresh keys): nothing else in the document depends on configuration.
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
      // The document is built by the docs' own plugin, which an instance loads only with docs on.
      DOCS: 'on',
    }),
  )
  try {
    // Stringified as @fastify/swagger does for /docs/yaml.
    const doc = stringify({ ...app.swagger(), servers: SERVERS }, { strict: false })
    return `${doc.trimEnd()}\n`
  } finally {
    await app.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
