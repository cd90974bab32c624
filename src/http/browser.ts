import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * What the hosted pages need to be safe in a browser: `__Host-` cookies (Secure, Path=/, no
 * Domain: only this exact origin ever sees them), a CSRF double submit, the fetch-metadata and
 * Origin checks, and headers that keep pages out of caches, referrers and frames.
 */
export const COOKIE = {
  session: '__Host-latchkey-session',
  binding: '__Host-latchkey-bind',
  csrf: '__Host-latchkey-csrf',
} as const

const base = { path: '/', secure: true, httpOnly: true, sameSite: 'lax' } as const

export interface BrowserSecurity {
  /** The form token for this browser, setting its CSRF cookie when it has none. */
  csrfToken(request: FastifyRequest, reply: FastifyReply): string
  /**
   * True when a form POST comes from our own pages: fetch metadata and Origin (when the browser
   * sends them) name this origin, and the form token matches the browser's CSRF cookie.
   */
  formIsOurs(request: FastifyRequest, formToken: unknown): boolean
  /** Marks this browser as the one that asked for a link for `userId`, at `nowSeconds`. */
  bind(reply: FastifyReply, userId: string, nowSeconds: number): void
  /** Whether this browser asked for a link for `userId` within `maxAgeSeconds`. */
  isBoundTo(request: FastifyRequest, userId: string, nowSeconds: number): boolean
  unbind(reply: FastifyReply): void
  setSession(reply: FastifyReply, jwt: string, maxAgeSeconds: number): void
  /** The session JWT the cookie holds, unchecked; the caller verifies it. */
  sessionOf(request: FastifyRequest): string | undefined
  clearSession(reply: FastifyReply): void
}

export function browserSecurity(options: {
  key: Buffer
  publicOrigin: string
  bindingMaxAgeSeconds: number
}): BrowserSecurity {
  const { key, publicOrigin, bindingMaxAgeSeconds } = options
  const mac = (purpose: string, value: string) =>
    createHmac('sha256', key).update(`${purpose}\0${value}`).digest('base64url')
  const equal = (a: string, b: string) => {
    const x = Buffer.from(a)
    const y = Buffer.from(b)
    return x.length === y.length && timingSafeEqual(x, y)
  }
  const cookie = (request: FastifyRequest, name: string): string | undefined => {
    // Null when the request failed before the pages' cookie hook ran (while shutting down).
    const value = request.cookies?.[name]
    return typeof value === 'string' && value.length <= 512 ? value : undefined
  }

  return {
    csrfToken(request, reply) {
      let secret = cookie(request, COOKIE.csrf)
      if (!secret || !/^[A-Za-z0-9_-]{43}$/.test(secret)) {
        secret = randomBytes(32).toString('base64url')
        reply.setCookie(COOKIE.csrf, secret, base)
      }
      return mac('csrf', secret)
    },

    formIsOurs(request, formToken) {
      const site = request.headers['sec-fetch-site']
      if (site !== undefined && site !== 'same-origin' && site !== 'none') return false
      const origin = sentOrigin(request)
      if (origin !== undefined && origin !== publicOrigin) return false
      const secret = cookie(request, COOKIE.csrf)
      return (
        secret !== undefined &&
        typeof formToken === 'string' &&
        equal(formToken, mac('csrf', secret))
      )
    },

    // The cookie names the user by a keyed hash: a UUIDv7 in clear would tell whoever typed an
    // address when that account was created, and so whether it existed before.
    bind(reply, userId, nowSeconds) {
      const value = `${mac('bind-user', userId)}.${nowSeconds}`
      reply.setCookie(COOKIE.binding, `${value}.${mac('bind', value)}`, {
        ...base,
        maxAge: bindingMaxAgeSeconds,
      })
    },

    isBoundTo(request, userId, nowSeconds) {
      const [id, at, signature] = (cookie(request, COOKIE.binding) ?? '').split('.')
      if (!id || !at || !signature || !equal(signature, mac('bind', `${id}.${at}`))) return false
      const requestedAt = Number(at)
      return equal(id, mac('bind-user', userId)) && nowSeconds - requestedAt <= bindingMaxAgeSeconds
    },

    unbind(reply) {
      reply.clearCookie(COOKIE.binding, base)
    },

    setSession(reply, jwt, maxAgeSeconds) {
      reply.setCookie(COOKIE.session, jwt, { ...base, maxAge: maxAgeSeconds })
    },

    sessionOf(request) {
      const jwt = request.cookies?.[COOKIE.session]
      return typeof jwt === 'string' && jwt.length <= 8192 ? jwt : undefined
    },

    clearSession(reply) {
      reply.clearCookie(COOKIE.session, base)
    },
  }
}

/**
 * The Origin a browser named, if any. Our pages send no referrer, and under that policy browsers
 * send `Origin: null` even on a same-origin form post: null names nobody, so it counts as absent
 * and Sec-Fetch-Site and the CSRF token decide.
 */
function sentOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin
  return origin === 'null' ? undefined : origin
}

/**
 * Every page: never cached (a confirm page names a user and carries a token), never a referrer
 * (the token is in the URL), never framed, no script at all, forms only to ourselves and to the
 * origins a successful sign-in may redirect to.
 */
export function pageHeaders(reply: FastifyReply, formTargets: readonly string[]): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header(
      'content-security-policy',
      [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        `form-action 'self'${formTargets.map((o) => ` ${o}`).join('')}`,
        "frame-ancestors 'none'",
        "base-uri 'none'",
      ].join('; '),
    )
}
