import { GENERATE, quote } from './messages.js'
import { normaliseUrl } from './parsers.js'
import { weakSecretReason } from './secret-strength.js'
import type { Report } from './setting.js'
import type { ApiKeyConfig, LinkSecretConfig, SessionKeyConfig } from './values.js'

/**
 * What a schema cannot say about one setting: run on a value its schema accepted, before any
 * check that compares it with another setting.
 */

/** An absolute http(s) URL that is already in the one spelling latchkey builds links from. */
export function publicUrl(value: string, report: Report): void {
  try {
    const url = new URL(value)
    if (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.username === '' &&
      url.password === '' &&
      url.search === '' &&
      url.hash === '' &&
      normaliseUrl(value) === value
    ) {
      return
    }
  } catch {
    // refused below
  }
  report.refuse(value)
}

export function linkSecrets(secrets: LinkSecretConfig[], report: Report): void {
  for (const kid of duplicates(secrets.map((s) => s.kid))) {
    report.problem(`kid ${kid} names two secrets; give each secret a kid of its own`)
  }
  // Compared as bytes, in their one canonical spelling: base64url's last character carries
  // spare bits, so two spellings could otherwise hide one secret.
  for (const { kid, secret } of secrets) {
    if (Buffer.from(secret, 'base64url').toString('base64url') !== secret) {
      report.problem(
        `the secret of kid ${kid} is not in canonical base64url (its last character has stray bits); ${GENERATE}`,
      )
      continue
    }
    const weakness = weakSecretReason(Buffer.from(secret, 'base64url'))
    if (weakness !== undefined) report.problem(`the secret of kid ${kid} ${weakness}; ${GENERATE}`)
  }
  if (duplicates(secrets.map((s) => s.secret)).length > 0) {
    report.problem(`one secret appears under two kids; ${GENERATE} for each`)
  }
}

export function sessionKeys(keys: SessionKeyConfig[], report: Report): void {
  for (const { kid, d } of keys) {
    const weakness = weakSecretReason(Buffer.from(d, 'base64url'))
    if (weakness !== undefined) {
      report.problem(`the private part (d) of kid ${quote(kid)} ${weakness}; ${GENERATE}`)
    }
  }
  for (const kid of duplicates(keys.map((k) => k.kid))) {
    report.problem(`kid ${quote(kid)} names two keys; give each key a kid of its own`)
  }
}

export function apiKeys(keys: ApiKeyConfig[], report: Report): void {
  const names = keys.map((k) => k.name)
  for (const name of duplicates(names)) {
    report.problem(`the name ${name} is given to two keys; give each key its own name`)
  }
  // A session's client_id is the name of the key that opened it, or `hosted` for the hosted
  // pages: a key of that name would make its sessions pass for the hosted pages' own.
  if (names.includes('hosted')) {
    report.problem('the name hosted is reserved for the hosted pages; choose another name')
  }
}

/** Each value that appears more than once, once. */
function duplicates<T>(values: T[]): T[] {
  return [...new Set(values.filter((value, i) => values.indexOf(value) !== i))]
}
