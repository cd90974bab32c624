import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { ApiKeyConfig } from '../config/index.js'

/**
 * `service`: the service API; `admin`: everything; `metrics`: `GET /metrics` only, so a scraper's
 * key (often kept in a monitoring system's configuration) can read counters and nothing else.
 */
export type Role = 'service' | 'admin' | 'metrics'

export interface Principal {
  name: string
  role: Role
}

const KEY_PREFIX = 'lk_'

/**
 * API keys are configured as SHA-256 hashes only, so the configuration (and anything that leaks
 * it) cannot be used to call the API. Keys are 32 random bytes, so a fast hash is enough: there
 * is nothing to brute-force.
 */
export class ApiKeys {
  readonly #entries: { principal: Principal; hash: Buffer }[]

  constructor(entries: readonly ApiKeyConfig[]) {
    this.#entries = entries.map((e) => ({
      principal: { name: e.name, role: e.role },
      hash: Buffer.from(e.hash, 'hex'),
    }))
  }

  /**
   * Every configured hash is compared, in constant time, whatever matches first: the time taken
   * says nothing about which key, or how much of one, was right.
   */
  authenticate(presented: string): Principal | undefined {
    const hash = sha256(presented)
    let found: Principal | undefined
    for (const entry of this.#entries) {
      if (timingSafeEqual(hash, entry.hash)) found ??= entry.principal
    }
    return found
  }
}

export function allows(principal: Principal, role: Role): boolean {
  return principal.role === 'admin' || principal.role === role
}

/** A fresh key and the `API_KEYS` entry that admits it. */
export function generateApiKey(name: string, role: Role): { key: string; entry: string } {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url')
  return { key, entry: `${name}:${role}:${sha256(key).toString('hex')}` }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
