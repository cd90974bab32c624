import Type from 'typebox'
import { GENERATE } from './messages.js'
import * as parse from './parsers.js'
import * as refine from './refine.js'
import { row } from './setting.js'
import { ApiKeySchema, LinkSecretSchema, SessionKeySchema } from './values.js'

/**
 * The rows of the three keys every deployment holds (settings.ts keeps the table): lists whose
 * entries are named one by one when wrong, never repeated in a message, and generated in
 * development (dev-secrets.ts) while production refuses to start without them.
 */
export const KEY_SETTINGS = {
  LINK_SECRETS: row({
    path: 'linkSecrets',
    schema: Type.Array(LinkSecretSchema, { minItems: 1 }),
    parse: parse.linkSecrets,
    unset: [],
    refine: refine.linkSecrets,
    secret: true,
    entries: {
      kid: 'the kid is not a whole number from 0 to 255; give each secret a kid from 0 to 255',
      secret: `the secret is not base64url of 32 bytes or more; ${GENERATE}`,
    },
    shown: 'generated in development',
    doc: '`kid:base64url-secret` entries, comma-separated, first signs; ≥ 32 bytes each',
  }),
  SESSION_KEYS: row({
    path: 'sessionKeys',
    schema: Type.Array(SessionKeySchema, { minItems: 1 }),
    parse: parse.jwkArray,
    unset: [],
    refine: refine.sessionKeys,
    secret: true,
    entries: {
      '': `not a private JWK (a JSON object with kid, kty and d); ${GENERATE}`,
      kid: 'the key has no kid; give each key a kid of its own',
      kty: `the key is not EC (P-256) or OKP (Ed25519), the two kinds latchkey signs with; ${GENERATE}`,
      d: `the key has no private part (d), and a public key cannot sign; ${GENERATE}`,
    },
    shown: 'generated in development',
    doc: 'JSON array of private JWKs with `kid` (Ed25519 `EdDSA` or P-256 `ES256`), first signs',
  }),
  API_KEYS: row({
    path: 'apiKeys',
    schema: Type.Array(ApiKeySchema, { minItems: 1 }),
    parse: parse.apiKeys,
    unset: [],
    refine: refine.apiKeys,
    secret: true,
    entries: {
      name: 'the name is not 1 to 64 letters, digits and _ . -; rename it',
      role: 'the role is not service, admin or metrics; use one of them',
      hash: 'the hash is not 64 hex digits; configure the SHA-256 of the key, never the key itself (`latchkey keys` prints an entry)',
    },
    shown: 'generated in development',
    doc: '`name:role:sha256hex` entries; role `service`, `admin` or `metrics` (`GET /metrics` only); the name `hosted` is reserved',
  }),
}
