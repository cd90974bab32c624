import { ERROR_CODES } from '../../src/errors.js'
import { STYLESHEET_PATH } from '../../src/http/pages/render.js'
import type { App } from '../../src/http/types.js'
import { adminKey, PUBLIC_URL, serviceKey } from './app.js'
import { TAG } from './hostile.js'

/**
 * What every answer of the service must be, whatever was sent (DESIGN, HTTP API and security
 * requirements 13, 15): checked by the fuzz tests on every answer they get, so a run names
 * every rule an answer broke, not only the first.
 */

export const ALLOWED_ORIGINS = ['https://app.example.test']

/**
 * The settings the fuzzed apps run with: the limits on (far above what the runs reach) and a
 * proxy trusted, so hostile addresses and X-Forwarded-For values (which become request.ip) go
 * through the code that keys the counters and checks IP-bound links.
 */
export const FUZZ_ENV = {
  TRUST_PROXY: 'true',
  RATE_LIMIT_IP: '1000000/1m',
  RATE_LIMIT_API_KEY: '1000000/1m',
  RATE_LIMIT_RECIPIENT: '1000000/1m',
  RATE_LIMIT_FORM_IP: '1000000/1m',
}

/** The paths people's browsers open: their errors are pages, not problem documents. */
export const PAGE_PATHS = new Set(['/login', '/login/link', '/logout', STYLESHEET_PATH])

const CODES = new Set<string>(ERROR_CODES)
const VALID_KEYS = new Set([serviceKey.key, adminKey.key])
const OUR_COOKIES = /^__Host-latchkey-(session|bind|csrf)$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface Sent {
  method: string
  /** The request target as sent (path and query). */
  url: string
  headers?: Record<string, string | undefined>
}

export interface Answer {
  statusCode: number
  headers: Record<string, string | string[] | number | undefined>
  body: string
}

/** Which methods each path serves, read from the app's own routing table (so new routes count). */
export class Routes {
  readonly #routes: { pattern: RegExp; methods: string[] }[] = []

  constructor(app: App) {
    // printRoutes({ commonPrefix: false }) draws one node a line: `│   ├── segment (GET, HEAD)`.
    const stack: string[] = []
    for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
      const m = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line)
      if (!m) continue
      const depth = (m[1] ?? '').length / 4
      stack.length = depth
      stack.push(m[2] ?? '')
      if (!m[3]) continue
      const path = stack.join('')
      const source = path
        .split(/(:[A-Za-z_]+|\*)/)
        .map((part) =>
          part === '*'
            ? '.*'
            : part.startsWith(':')
              ? '[^/]+'
              : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('')
      this.#routes.push({ pattern: new RegExp(`^${source}$`), methods: m[3].split(', ') })
    }
    if (this.#routes.length < 15) throw new Error('could not read the routing table')
  }

  /** Every method some route serves at `path`; undefined when no route has the path. */
  methods(path: string): string[] | undefined {
    const found = this.#routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods)
    return found.length === 0 ? undefined : [...new Set(found)]
  }
}

const headerOf = (res: Answer, name: string): string[] => {
  const value = res.headers[name]
  if (value === undefined) return []
  return Array.isArray(value) ? value : [String(value)]
}

/** Everything wrong with `res` as an answer to `sent`; empty when nothing is. */
export function answerProblems(sent: Sent, res: Answer, routes: Routes): string[] {
  const found: string[] = []
  const path = sent.url.split('?')[0] ?? ''
  const method = sent.method.toUpperCase()
  const served = routes.methods(path)
  const type = headerOf(res, 'content-type')[0] ?? ''

  if (res.statusCode >= 500) found.push(`server error ${res.statusCode}`)

  // Nothing sent comes back raw in a header: a header is printable ASCII, or a response
  // splitting, a mojibake redirect or a crash in the header writer is one step away.
  for (const name of Object.keys(res.headers)) {
    for (const v of headerOf(res, name)) {
      if (!/^[\t\x20-\x7e]*$/.test(v)) found.push(`header ${name} is not printable ASCII`)
    }
  }
  for (const location of headerOf(res, 'location')) found.push(...locationProblems(location))
  for (const line of headerOf(res, 'set-cookie')) {
    const [, name = '', value = ''] = /^([^=;]*)=([^;]*)/.exec(line) ?? []
    if (!OUR_COOKIES.test(name) || !/^[\w.~-]*$/.test(value)) {
      found.push('set-cookie sets something other than our cookies with token-shaped values')
    }
  }

  if (res.statusCode >= 400) {
    const page = PAGE_PATHS.has(path) && served?.includes(method)
    if (page) {
      if (!type.startsWith('text/html')) found.push(`page error ${res.statusCode} is ${type}`)
    } else if (type.startsWith('application/problem+json')) {
      if (method !== 'HEAD') found.push(...problemDocumentProblems(res))
    } else if (!(PAGE_PATHS.has(path) && type.startsWith('text/html'))) {
      found.push(`error ${res.statusCode} is ${type || 'without a content type'}`)
    }
  }

  // A route that exists does not vanish for another method: 405 with Allow (RFC 9110 15.5.6).
  if (served && !served.includes(method)) {
    if (method === 'OPTIONS') {
      if (res.statusCode !== 405 && res.statusCode >= 300) {
        found.push(`OPTIONS answered ${res.statusCode}`)
      }
    } else if (res.statusCode !== 405) {
      found.push(`${method} on a route without it answered ${res.statusCode}, not 405`)
    }
    if (res.statusCode === 405) {
      const allow = (headerOf(res, 'allow')[0] ?? '').split(/\s*,\s*/).filter(Boolean)
      const missing = served.filter((m) => m !== 'HEAD' && !allow.includes(m))
      if (allow.length === 0 || missing.length > 0 || allow.includes(method)) {
        found.push(`405 with Allow "${allow.join(', ')}" for ${served.join(', ')}`)
      }
    }
  }

  // The authentication scheme is case-insensitive (RFC 9110 11.1).
  const auth = /^bearer ([\x21-\x7e]+)$/i.exec(sent.headers?.authorization ?? '')
  if (auth && VALID_KEYS.has(auth[1] ?? '') && res.statusCode === 401) {
    if (/"code":"unauthorized"/.test(res.body)) found.push('a valid key in another case refused')
  }

  if (path.startsWith('/v1/') && headerOf(res, 'cache-control')[0] !== 'no-store') {
    found.push('a /v1 answer without cache-control: no-store')
  }
  if (type.startsWith('text/html') && res.body.includes(TAG)) found.push('markup reflected')
  return found
}

function problemDocumentProblems(res: Answer): string[] {
  let problem: Record<string, unknown>
  try {
    problem = JSON.parse(res.body)
  } catch {
    return ['a problem+json body that is not JSON']
  }
  const found: string[] = []
  if (problem.status !== res.statusCode) found.push('problem status differs from the answer')
  if (typeof problem.code !== 'string' || !CODES.has(problem.code)) {
    found.push(`problem code ${JSON.stringify(problem.code)} is not one of ERROR_CODES`)
  }
  for (const member of ['type', 'title', 'detail']) {
    if (typeof problem[member] !== 'string') found.push(`problem without ${member}`)
  }
  return found
}

/**
 * DESIGN requirement 13: a redirect stays on this site or an allowed origin, and is emitted in its
 * ASCII serialisation, so what the browser follows is what was checked.
 */
export function locationProblems(location: string): string[] {
  if (!/^[\x21-\x7e]+$/.test(location)) return ['Location is not in its ASCII serialisation']
  if (/^[/\\]{2}/.test(location)) return [`Location ${location} starts with //`]
  let url: URL
  try {
    url = new URL(location, PUBLIC_URL)
  } catch {
    return [`Location ${location} is not a URL`]
  }
  const found: string[] = []
  if (url.origin !== new URL(PUBLIC_URL).origin && !ALLOWED_ORIGINS.includes(url.origin)) {
    found.push(`Location ${location} leaves the site`)
  }
  if (url.username !== '' || url.password !== '') found.push('Location with userinfo')
  if (url.pathname.startsWith('//')) found.push(`Location ${location} has a path starting //`)
  // Swagger UI redirects /docs relatively (`./docs/`); every redirect of ours is a target that
  // was checked, bound and serialised once, so it reads back unchanged.
  const relative = location.startsWith('/')
  const again = relative ? `${url.pathname}${url.search}${url.hash}` : url.href
  if (!location.startsWith('.') && again !== location) {
    found.push(`Location ${location} does not round-trip (${again})`)
  }
  return found
}

/**
 * Item 15 of the hardening issue: every answer names its request; an id the client sent is echoed
 * when it is safe, replaced when it is not. Checked by a property of its own, so that it does not
 * hide every other finding while it fails.
 */
export function requestIdProblems(sent: string | undefined, res: Answer): string[] {
  const id = headerOf(res, 'x-request-id')[0]
  if (id === undefined) return ['no x-request-id']
  if (!/^[\x21-\x7e]{1,256}$/.test(id)) return ['x-request-id is not a bounded token']
  if (sent === undefined) return []
  if (UUID.test(sent) && id !== sent) return ['a UUID x-request-id was not echoed']
  if (!/^[\x21-\x7e]{1,256}$/.test(sent) && id === sent) return ['an unsafe x-request-id echoed']
  return []
}

/** Ends a property run that broke a rule: every rule broken, then what was sent and answered. */
export function failIf(found: string[], context: string): void {
  if (found.length > 0) throw new Error(`${found.join('\n')}\n${context}`)
}
