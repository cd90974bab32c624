import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import type { App } from '../../src/http/types.js'
import { asAdmin, asService, PUBLIC_URL, type TestApp } from './app.js'
import { formFields, unescapeXml } from './html.js'

// Where the pages' tests have always found it.
export { formFields } from './html.js'

/**
 * The hosted pages as a browser meets them: a cookie jar and the fetch-metadata headers a real
 * one sends, the forms and headings of the HTML, and the links in the mail.
 */

export const COOKIE = {
  session: '__Host-latchkey-session',
  binding: '__Host-latchkey-bind',
  csrf: '__Host-latchkey-csrf',
} as const

/** A Set-Cookie of an answer, as light-my-request parses it (the value URL-decoded). */
export type SetCookie = LightMyRequestResponse['cookies'][number]

/**
 * Everything an answer to the email form shows a person, with the typed address taken out: what
 * must not differ between known, unknown and disabled addresses.
 */
export const answerShape = (email: string, res: LightMyRequestResponse) => ({
  status: res.statusCode,
  type: res.headers['content-type'],
  // The form token is this browser's, whatever the address (the sent page's code form has one).
  body: res.body
    .replaceAll(email, '<typed address>')
    .replaceAll(/name="csrf" value="[^"]*"/g, 'name="csrf" value="<form token>"'),
  cookies: res.cookies.map(({ name, value: _value, expires: _expires, ...attributes }) => ({
    name,
    attributes: Object.keys(attributes).sort(),
    maxAge: attributes.maxAge,
  })),
})

/** The Set-Cookie for `name`, if the answer has one. */
export const setCookie = (res: LightMyRequestResponse, name: string): SetCookie | undefined =>
  res.cookies.find((c) => c.name === name)

/** A Set-Cookie that deletes: Max-Age ≤ 0, or Expires in the (real) past. */
export function removes(cookie: SetCookie): boolean {
  if (cookie.maxAge !== undefined && cookie.maxAge <= 0) return true
  return cookie.expires !== undefined && cookie.expires.getTime() < Date.now()
}

/** path + query of a link, for inject. */
export const pathOf = (link: string) => {
  const url = new URL(link, PUBLIC_URL)
  return `${url.pathname}${url.search}`
}

type Headers = Record<string, string | undefined>

/** What a browser sends with a form posted from one of our own pages. */
export const SAME_ORIGIN: Headers = { 'sec-fetch-site': 'same-origin', origin: PUBLIC_URL }

export class Browser {
  readonly cookies = new Map<string, string>()

  constructor(readonly app: App) {}

  /** Keeps what an answer sets, forgets what it deletes. */
  store(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const cookie of res.cookies) {
      if (removes(cookie)) this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
    return res
  }

  #headers(extra: Headers): Record<string, string> {
    const headers: Record<string, string> = {}
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies]
        .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
        .join('; ')
    }
    for (const [name, value] of Object.entries(extra)) {
      if (value !== undefined) headers[name] = value
    }
    return headers
  }

  /** A navigation (an email link is `Sec-Fetch-Site: none`). */
  async get(url: string, headers: Headers = { 'sec-fetch-site': 'none' }) {
    const res = await this.app.inject({
      method: 'GET',
      url: pathOf(url),
      headers: this.#headers(headers),
    })
    return this.store(res)
  }

  async head(url: string, headers: Headers = {}) {
    const res = await this.app.inject({
      method: 'HEAD',
      url: pathOf(url),
      headers: this.#headers(headers),
    })
    return this.store(res)
  }

  /** A form post, `application/x-www-form-urlencoded`, from one of our pages unless told. */
  async post(url: string, form: Record<string, string> | string, headers: Headers = SAME_ORIGIN) {
    const res = await this.app.inject({
      method: 'POST',
      url: pathOf(url),
      headers: {
        ...this.#headers(headers),
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
    })
    return this.store(res)
  }
}

/** Like formFields, for a form the page must have. */
export function mustForm(html: string, action: string): Record<string, string> {
  const fields = formFields(html, action)
  if (!fields) throw new Error(`no form posting to ${action} in the page`)
  return fields
}

/** Which page this is, by its <h1> (unescaped). */
export const heading = (html: string) => unescapeXml(/<h1>([^<]*)<\/h1>/.exec(html)?.[1] ?? '')

export const HEADINGS = {
  login: /^Sign in to /,
  sent: /^Check your email$/,
  confirm: /^Sign in to /,
  elsewhere: /^Sign in on this device\?$/,
  signedIn: /^You’re signed in$/,
  forbidden: /^Request blocked$/,
  token_invalid: /^This link doesn’t work$/,
  token_expired: /^This link has expired$/,
  token_used: /^This link has already been used$/,
  token_revoked: /^This link has been cancelled$/,
  user_disabled: /^This account can’t sign in$/,
  ip_mismatch: /^Open this link on the same network$/,
} as const

/** The flags byte of a v1 token (DESIGN: offset 3). */
export const flagsOf = (token: string) => Buffer.from(token, 'base64url')[3] ?? -1
export const purposeOf = (token: string) => Buffer.from(token, 'base64url')[1] ?? -1
export const BROWSER_BOUND = 4
export const HAS_REDIRECT = 8

/** Sends the outbox, then the link of the last message to `to`. */
export async function mailedLink(h: TestApp, to: string): Promise<string> {
  await h.app.outbox.runOnce()
  const message = h.mail.findLast((m) => m.to === to)
  if (!message) throw new Error(`no mail to ${to}`)
  const found = /https:\/\/login\.example\.test\/login\/link\?\S+/.exec(message.text)
  if (!found) throw new Error('no link in the mail')
  return found[0]
}

export const tokenIn = (link: string) => new URL(link).searchParams.get('token') ?? ''
export const nextIn = (link: string) => new URL(link).searchParams.get('next') ?? undefined

/**
 * The login form, as a person fills it in: GET /login (with `next` in the query when given), then
 * POST /login with the form's own hidden fields and the address. `post` overrides fields.
 */
export async function requestLink(
  b: Browser,
  email: string,
  options: { next?: string; post?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  const query = options.next === undefined ? '' : `?${new URLSearchParams({ next: options.next })}`
  const page = await b.get(`/login${query}`)
  if (page.statusCode !== 200) throw new Error(`GET /login answered ${page.statusCode}`)
  return b.post('/login', { ...mustForm(page.body, '/login'), email, ...options.post })
}

/** Opens a link (the confirm page) and presses its button: the answer to the POST. */
export async function openAndConfirm(b: Browser, link: string): Promise<LightMyRequestResponse> {
  const page = await b.get(link)
  if (page.statusCode !== 200) throw new Error(`the confirm page answered ${page.statusCode}`)
  return b.post('/login/link', mustForm(page.body, '/login/link'))
}

/** An admin action on a user (revoke, disable, enable). */
export async function adminAction(app: App, userId: string, action: string) {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/admin/users/${userId}/${action}`,
    headers: asAdmin,
  })
  if (res.statusCode !== 200) throw new Error(`${action} answered ${res.statusCode}`)
}

/** The user record for an email address (admin API), or undefined. */
export async function userByEmail(app: App, email: string) {
  const res = await app.inject({
    method: 'GET',
    url: `/v1/admin/users?email=${encodeURIComponent(email)}`,
    headers: asAdmin,
  })
  const users = res.json().users as { id: string; status: string; last_login_at: string | null }[]
  return users[0]
}

/** Whether a session JWT is active, by POST /v1/sessions/introspect. */
export async function postIntrospect(app: App, jwt: string): Promise<Record<string, unknown>> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/sessions/introspect',
    headers: asService,
    payload: { jwt },
  })
  return res.json()
}

/** The session cookie an answer sets: present, `__Host-` shaped, and its JWT. */
export function assertSessionCookie(t: Test, res: LightMyRequestResponse): string {
  const cookie = setCookie(res, COOKIE.session)
  t.ok(cookie, 'a session cookie is set')
  if (!cookie) return ''
  t.equal(cookie.secure, true, 'Secure')
  t.equal(cookie.httpOnly, true, 'HttpOnly')
  t.equal(cookie.sameSite, 'Lax', 'SameSite=Lax')
  t.equal(cookie.path, '/', 'Path=/')
  t.notOk('domain' in cookie, 'no Domain')
  t.notOk(removes(cookie), 'not a deletion')
  t.match(cookie.value, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT')
  return cookie.value
}

/** No cookie of a session or a binding is set (a CSRF cookie may be). */
export function assertNoSession(t: Test, res: LightMyRequestResponse, what = 'the answer'): void {
  const names = res.cookies.filter((c) => !removes(c)).map((c) => c.name)
  t.notOk(names.includes(COOKIE.session), `${what} sets no session cookie`)
}
