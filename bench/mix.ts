/**
 * The realistic mix of `npm run soak`: what a backend and its users do, as one sequence of
 * requests each autocannon connection goes through again and again.
 *
 * A backend signs someone in through the API (issue a link with deliver "none", verify it, which
 * opens a session; introspect its JWT; refresh twice under rotation and introspect again), verifies
 * a reusable link (minted here, as issueLink would), and is sent a forged token (401
 * token_invalid, an expected answer). A person signs in through the hosted pages: the email form
 * (GET, then POST with its CSRF token: the service emails a link, through the log transport, to
 * nowhere), the confirm page a link opens and its button (with the second confirmation a link
 * issued elsewhere needs), then signs out. Fourteen requests: issue 2, verify 3 (1 forged),
 * refresh 2, introspect 2, pages 5.
 *
 * Each pass takes a user from a pool and gives it back at its end, so no two connections ever
 * hold links of one user at once (one consume would void the other's link, DESIGN "The two
 * counters": an answer the mix did not ask for). A step whose answer is not the expected one is
 * counted as an error (by step and kind), gives the user back, and the rest of that pass is
 * skipped: autocannon starts the sequence again.
 */
import { randomBytes } from 'node:crypto'
import type autocannon from 'autocannon'
import { Flag, Purpose } from '../src/tokens/codec.js'
import { KeyRing } from '../src/tokens/keyring.js'
import { formFields } from '../test/helpers/html.js'
import { Ring } from './ring.js'
import { PUBLIC_URL, type SoakServer } from './soak-harness.js'

/** Per-connection autocannon context for one pass of the sequence. */
interface Pass {
  /** A step of this pass had a wrong answer: the rest of the pass is skipped. */
  failed?: boolean
  user?: PoolUser | undefined
  userId?: string
  linkToken?: string
  jwt?: string
  refresh?: string
  cookies?: Record<string, string>
  csrf?: string
  confirm?: Record<string, string>
}

interface PoolUser {
  email: string
}

/** What went wrong, by step and kind; and how many answers each step had. */
export class MixTally {
  readonly answered = new Map<string, number>()
  readonly wrong = new Map<string, number>()
  /** Called for each answer that is not the expected one (the window counts it as an error). */
  onWrong: () => void = () => {}

  count(step: string): void {
    this.answered.set(step, (this.answered.get(step) ?? 0) + 1)
  }

  fail(step: string, what: string): void {
    const key = `${step}: ${what}`
    this.wrong.set(key, (this.wrong.get(key) ?? 0) + 1)
    this.onWrong()
  }
}

const REDIRECT = '/after'

export function mixRequests(
  server: SoakServer,
  users: number,
  tally: MixTally,
): autocannon.Request[] {
  const pool = new Ring<PoolUser>(
    Array.from({ length: users }, (_, i) => ({ email: `soak-${i}@soak.test` })),
  )
  const api = {
    authorization: `Bearer ${server.keys.service}`,
    'content-type': 'application/json',
  }
  const ttl = server.config.linkTtl
  const now = () => Math.floor(Date.now() / 1000)
  const reusable = (userId: string) =>
    server.keyring.mint({
      purpose: Purpose.Login,
      flags: 0,
      userId,
      expiresAt: now() + ttl,
      rev: 0,
      seq: 0,
    })
  // Same kid, another secret: the token decodes and names a real user, and only its MAC is wrong.
  const forger = new KeyRing([{ kid: server.keyring.signingKid, secret: randomBytes(32) }])
  const forged = (userId: string) =>
    forger.mint({
      purpose: Purpose.Login,
      flags: Flag.OneTime,
      userId,
      expiresAt: now() + ttl,
      rev: 0,
      seq: 0,
    })

  /** Ends the pass: the user goes back to the pool, and the steps after this one are skipped. */
  const fail = (pass: Pass, step: string, what: string) => {
    tally.fail(step, what)
    pass.failed = true
    release(pass)
  }
  const release = (pass: Pass) => {
    if (pass.user) pool.push(pass.user)
    pass.user = undefined
    pass.userId = undefined
  }
  const json = (body: object) => JSON.stringify(body)
  const page = (pass: Pass, extra: Record<string, string> = {}) => ({
    ...extra,
    cookie: Object.entries(pass.cookies ?? {})
      .map(([n, v]) => `${n}=${v}`)
      .join('; '),
  })
  const form = (pass: Pass, fields: Record<string, string>) =>
    page(pass, {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'same-origin',
      origin: PUBLIC_URL,
      ...fields,
    })

  /** One step: its request (undefined skips the rest of the pass), and the answer it expects. */
  const step = (
    name: string,
    method: 'GET' | 'POST',
    build: (
      pass: Pass,
    ) => { path: string; headers: Record<string, string>; body?: string } | undefined,
    check: (
      pass: Pass,
      status: number,
      body: string,
      headers: Record<string, unknown>,
    ) => string | undefined,
  ): autocannon.Request => ({
    method,
    path: '/',
    setupRequest: (request, context) => {
      const pass = context as Pass
      const built = pass.failed ? undefined : build(pass)
      if (!built) return undefined as unknown as autocannon.Request
      return { ...request, method, ...built }
    },
    onResponse: (status, body, context, headers) => {
      const pass = context as Pass
      tally.count(name)
      const wrong = check(pass, status, body, (headers ?? {}) as Record<string, unknown>)
      if (wrong !== undefined) fail(pass, name, wrong)
      else takeCookies(pass, headers as Record<string, unknown> | undefined)
    },
  })
  const needs = <T>(
    value: T | undefined,
    then: (v: T) => ReturnType<Parameters<typeof step>[2]>,
  ) => (value === undefined ? undefined : then(value))

  const issue = (name: string) =>
    step(
      name,
      'POST',
      (pass) => {
        if (name === 'issue') {
          // The first step always sends: an empty pool (only after many failures) shows as errors.
          pass.user = pool.shift()
          if (!pass.user) tally.fail(name, 'the user pool is empty')
        }
        const email = pass.user?.email ?? 'nobody@soak.test'
        return {
          path: '/v1/links',
          headers: api,
          body: json({ email, deliver: 'none', redirect_to: REDIRECT }),
        }
      },
      (pass, status, body) => {
        if (status !== 202) return `${status}`
        const answer = parse(body)
        const link = typeof answer?.link === 'string' ? new URL(answer.link) : undefined
        const token = link?.searchParams.get('token')
        if (!token || typeof answer?.user_id !== 'string') return '202 without a link'
        pass.linkToken = token
        pass.userId = answer.user_id
        return undefined
      },
    )

  const sessionOf = (pass: Pass, session: unknown): string | undefined => {
    const s = session as { jwt?: unknown; refresh_token?: unknown } | null | undefined
    if (typeof s?.jwt !== 'string' || typeof s.refresh_token !== 'string') {
      return '200 without a session'
    }
    pass.jwt = s.jwt
    pass.refresh = s.refresh_token
    return undefined
  }

  const introspect = (name: string) =>
    step(
      name,
      'POST',
      (pass) =>
        needs(pass.jwt, (jwt) => ({
          path: '/v1/sessions/introspect',
          headers: api,
          body: json({ jwt }),
        })),
      (_pass, status, body) => {
        if (status !== 200) return `${status}`
        return body.includes('"active":true') ? undefined : 'introspection said inactive'
      },
    )

  const refresh = (name: string) =>
    step(
      name,
      'POST',
      (pass) =>
        needs(pass.refresh, (refresh_token) => ({
          path: '/v1/sessions/refresh',
          headers: api,
          body: json({ refresh_token }),
        })),
      (pass, status, body) => {
        if (status !== 200) return `${status}`
        const before = pass.refresh
        const wrong = sessionOf(pass, parse(body))
        if (wrong) return wrong
        return pass.refresh === before ? '200 replaying the token presented' : undefined
      },
    )

  return [
    issue('issue'),
    step(
      'verify one-time',
      'POST',
      (pass) =>
        needs(pass.linkToken, (token) => ({
          path: '/v1/links/verify',
          headers: api,
          body: json({ token, redirect_to: REDIRECT }),
        })),
      (pass, status, body) =>
        status === 200 ? sessionOf(pass, parse(body)?.session) : `${status}`,
    ),
    introspect('introspect'),
    refresh('refresh'),
    refresh('refresh again'),
    introspect('introspect refreshed'),
    step(
      'verify reusable',
      'POST',
      (pass) =>
        needs(pass.userId, (userId) => ({
          path: '/v1/links/verify',
          headers: api,
          body: json({ token: reusable(userId) }),
        })),
      (_pass, status, body) => {
        if (status !== 200) return `${status}`
        return body.includes('"refresh_token":"') ? undefined : '200 without a session'
      },
    ),
    step(
      'verify forged',
      'POST',
      (pass) =>
        needs(pass.userId, (userId) => ({
          path: '/v1/links/verify',
          headers: api,
          body: json({ token: forged(userId) }),
        })),
      (_pass, status, body) => {
        if (status !== 401) return `${status} instead of 401`
        return body.includes('"code":"token_invalid"') ? undefined : '401 not token_invalid'
      },
    ),
    step(
      'GET /login',
      'GET',
      (pass) =>
        needs(pass.userId, () => ({
          path: `/login?next=${encodeURIComponent(REDIRECT)}`,
          headers: { 'sec-fetch-site': 'none' },
        })),
      (pass, status, body) => {
        if (status !== 200) return `${status}`
        pass.csrf = formFields(body, '/login')?.csrf
        return pass.csrf ? undefined : 'no form token'
      },
    ),
    step(
      'POST /login',
      'POST',
      (pass) =>
        needs(pass.csrf, (csrf) => ({
          path: '/login',
          headers: form(pass, {}),
          body: new URLSearchParams({
            csrf,
            next: REDIRECT,
            email: pass.user?.email ?? '',
          }).toString(),
        })),
      (_pass, status, body) => {
        if (status !== 200) return `${status}`
        return body.includes('action="/login/code"') ? undefined : 'not the "check your email" page'
      },
    ),
    issue('issue for the page'),
    step(
      'GET /login/link',
      'GET',
      (pass) =>
        needs(pass.linkToken, (token) => ({
          path: `/login/link?${new URLSearchParams({ token, next: REDIRECT })}`,
          headers: page(pass, { 'sec-fetch-site': 'none' }),
        })),
      (pass, status, body) => {
        if (status !== 200) return `${status}`
        pass.confirm = formFields(body, '/login/link')
        return pass.confirm?.token ? undefined : 'no confirm form'
      },
    ),
    step(
      'POST /login/link',
      'POST',
      (pass) =>
        needs(pass.confirm, (fields) => ({
          path: '/login/link',
          headers: form(pass, {}),
          // A link issued through the API is bound to no browser: the second confirmation.
          body: new URLSearchParams({ ...fields, elsewhere: 'confirmed' }).toString(),
        })),
      (_pass, status, _body, headers) => {
        if (status !== 303) return `${status}`
        return headers.location === REDIRECT ? undefined : `303 to ${headers.location}`
      },
    ),
    step(
      'POST /logout',
      'POST',
      (pass) =>
        needs(pass.csrf, (csrf) => ({
          path: '/logout',
          headers: form(pass, {}),
          body: new URLSearchParams({ csrf }).toString(),
        })),
      (pass, status) => {
        release(pass)
        return status === 303 ? undefined : `${status}`
      },
    ),
  ]
}

/** Keeps the cookies an answer sets, as a browser would (the pages' __Host- cookies). */
function takeCookies(pass: Pass, headers: Record<string, unknown> | undefined): void {
  const set = headers?.['set-cookie']
  if (set === undefined) return
  for (const line of [set].flat() as string[]) {
    const m = /^([^=;]+)=([^;]*)/.exec(line)
    if (!m) continue
    pass.cookies ??= {}
    const [, name = '', value = ''] = m
    if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) delete pass.cookies[name]
    else pass.cookies[name] = value
  }
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    return undefined
  }
}
