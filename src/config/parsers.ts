import { isIP } from 'node:net'
import { GENERATE } from './messages.js'
import type { Report } from './setting.js'
import type { Rate } from './values.js'

/**
 * Parsers from an environment string to the value a setting's schema checks. Each reports, in the
 * setting's words, what it cannot read; the schema then judges what it could.
 */

/** Only digits are a number: `1e3`, `0x10`, `1.5` and `-1` are not. */
export function integer(value: string): number {
  return /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN
}

/** A flag; anything else is returned as it is, for the schema to refuse in words. */
export function boolean(value: string): boolean | string {
  if (/^(true|1|yes|on)$/i.test(value)) return true
  if (/^(false|0|no|off)$/i.test(value)) return false
  return value
}

/** Lower-cased scheme and host, no trailing slash; the input unchanged when it is no such URL. */
export function normaliseUrl(value: string): string {
  try {
    const url = new URL(value)
    if (url.search || url.hash || url.username || url.password) return value
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
  } catch {
    return value
  }
}

/** Comma-separated items, blanks dropped; an item `accept` refuses is named and left out. */
export function list(accept: (item: string) => boolean) {
  return (value: string, report: Report): string[] => {
    const items: string[] = []
    for (const item of value.split(',').map((s) => s.trim())) {
      if (item === '') continue
      if (accept(item)) items.push(item)
      else report.refuse(item)
    }
    return items
  }
}

/** The origin of a URL, or undefined when it is none. */
export function originOf(value: string): string | undefined {
  try {
    return new URL(value).origin
  } catch {
    return undefined
  }
}

/**
 * An `smtp://` or `smtps://` URL naming a host; the string as it is (nodemailer reads it), or ''
 * for the schema to refuse. Its credentials must be percent-encoded: a bare `@` or `/` in a
 * password would move the host.
 */
export function smtpUrl(value: string, report: Report): string {
  try {
    const url = new URL(value)
    if (/^smtps?:$/.test(url.protocol) && url.hostname !== '' && /^\/?$/.test(url.pathname)) {
      return value
    }
  } catch {
    // refused below
  }
  report.refuse(value)
  return ''
}

/** A file path (or `sqlite:path`, `file:path`) is SQLite; a `postgres://` URL is PostgreSQL. */
export function databaseUrl(
  value: string,
): { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string } {
  if (/^postgres(ql)?:\/\//.test(value)) return { kind: 'postgres', url: value }
  return { kind: 'sqlite', file: value.replace(/^(sqlite|file):(\/\/)?/, '') }
}

const WINDOW_UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 }
const DURATION_UNIT_SECONDS: Record<string, number> = { ...WINDOW_UNIT_SECONDS, d: 86_400 }

/** A duration in seconds: `90d`, `12h`, `30m`, `45s`, or a bare number of seconds. */
export function duration(value: string): number {
  const match = /^(\d{1,10})([smhd]?)$/.exec(value)
  if (!match) return Number.NaN
  return Number(match[1]) * (DURATION_UNIT_SECONDS[match[2] || 's'] as number)
}

/** `count/window` (`60/1m`, `5/15m`; the window in s, m or h, at most 24h), or `off`. */
export function rate(value: string, report: Report): Rate | null {
  if (value.toLowerCase() === 'off') return null
  const match = /^(\d{1,10})\/(\d{1,5})([smh])$/.exec(value)
  if (!match) {
    report.refuse(value)
    return null
  }
  const max = Number(match[1])
  const windowSeconds = Number(match[2]) * (WINDOW_UNIT_SECONDS[match[3] as string] as number)
  // Reported here, in words, and then left out: the schema would only say it again.
  if (max < 1 || max > 1_000_000_000) {
    report.problem('the count is not 1 to 1000000000; set one in that range, or off')
    return null
  }
  if (windowSeconds < 1 || windowSeconds > 24 * 3600) {
    report.problem('the window is not 1s to 24h; set one in that range')
    return null
  }
  return { max, windowSeconds }
}

/**
 * `false`; `true` (the one proxy in front: the same as 1); a number of proxy hops; or the
 * proxies' addresses and CIDR ranges, comma-separated. Never "trust every hop": the left-most
 * X-Forwarded-For entry is whatever the client sent, and a proxy that appends would let every
 * request choose its own address (and so its own rate-limit allowance).
 */
export function trustProxy(value: string, report: Report): false | number | string[] {
  const flag = boolean(value)
  if (flag === false) return false
  if (flag === true && !/^\d+$/.test(value)) return 1
  if (/^\d{1,2}$/.test(value)) {
    const hops = Number(value)
    return hops === 0 ? false : hops
  }
  const entries = value.split(',').map((entry) => entry.trim())
  for (const entry of entries) {
    if (!isAddressOrRange(entry)) {
      report.refuse(entry)
      return false
    }
  }
  return entries
}

function isAddressOrRange(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (bits === undefined) return true
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}

/** `kid:base64url-secret` entries, comma-separated; the first signs. */
export function linkSecrets(value: string, report: Report): unknown[] {
  return value.split(',').map((entry, i) => {
    const [kid, secret, ...rest] = entry.trim().split(':')
    if (secret === undefined || rest.length > 0) {
      report.problem(`entry ${i + 1}: not kid:base64url-secret; ${GENERATE}`)
    }
    return { kid: integer(kid ?? ''), secret: secret ?? '' }
  })
}

/** `name:role:sha256hex` entries, comma-separated. */
export function apiKeys(value: string, report: Report): unknown[] {
  return value.split(',').map((entry, i) => {
    const [name, role, hash, ...rest] = entry.trim().split(':')
    if (hash === undefined || rest.length > 0) {
      report.problem(`entry ${i + 1}: not name:role:sha256hex; \`latchkey keys\` prints one`)
    }
    return { name, role, hash: hash?.toLowerCase() }
  })
}

/** A JSON array of private JWKs; each entry is then checked on its own. */
export function jwkArray(value: string, report: Report): unknown[] {
  try {
    const parsed: unknown = JSON.parse(value)
    if (Array.isArray(parsed)) return parsed
  } catch {
    // reported below
  }
  report.problem(`not a JSON array of private JWKs; ${GENERATE}`)
  return []
}
