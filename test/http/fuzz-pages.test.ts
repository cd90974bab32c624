import fc from 'fast-check'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { asAdmin, asService, build, PUBLIC_URL, type TestApp } from '../helpers/app.js'
import {
  answerProblems,
  FUZZ_ENV,
  failIf,
  PAGE_PATHS,
  Routes,
  type Sent,
} from '../helpers/fuzz-checks.js'
import {
  formBody,
  hostileContentType,
  hostileEmail,
  hostileHeaders,
  hostilePath,
  hostileQuery,
  hostileString,
  spliced,
  UNPRINTABLE,
  urlEncoded,
} from '../helpers/hostile.js'
import { Browser, COOKIE, formFields, HEADINGS, heading, SAME_ORIGIN } from '../helpers/pages.js'

/**
 * The hosted pages under hostile input (the issue's "Done means"): every request a browser or an
 * attacker can make to them, and the whole flow from the form to the redirect with hostile
 * targets and addresses, in both handoffs. test/http/fuzz.test.ts does the same for the API.
 */

const cookieHandoff = await build(t, { env: FUZZ_ENV })
const codeHandoff = await build(t, { env: { ...FUZZ_ENV, HANDOFF: 'code' } })
const routes = new Routes(cookieHandoff.app)

/** Targets a backend may ask for: each one is refused, or bound and emitted safely. */
const TARGETS = [
  '/after',
  '/\u65e5\u672c',
  '/\u00fcber',
  '/caf\u00e9?q=\u00fc#\u00e9',
  '/..//evil.example',
  '/.//evil.example',
  '/\u200b/x',
  '/a\ud800b',
  'https://app.example.test/\u00fc',
]

/**
 * Links that stay usable (one_time false), each with the `next` its MAC binds: the consume path
 * of POST /login/link runs again and again with these, plus links bound to an IP.
 */
async function reusableLinks(h: TestApp): Promise<{ token: string; next: string | undefined }[]> {
  const links: { token: string; next: string | undefined }[] = []
  for (const redirect_to of [undefined, ...TARGETS]) {
    for (const extra of [{}, { bind_ip: '203.0.113.9' }, { scope: 'files:read' }]) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/links',
        headers: asService,
        payload: {
          email: 'fuzz-page@example.com',
          deliver: 'none',
          one_time: false,
          redirect_to,
          ...extra,
        },
      })
      if (res.statusCode !== 202) continue
      links.push({
        token: new URL(res.json().link).searchParams.get('token') ?? '',
        next: redirect_to,
      })
    }
  }
  if (links.length < 3) throw new Error('no reusable links to fuzz with')
  return links
}

/** A browser's CSRF cookie and the form token that goes with it, from GET /login. */
async function csrfPair(h: TestApp): Promise<{ cookie: string; token: string }> {
  const b = new Browser(h.app)
  const page = await b.get('/login')
  return {
    cookie: `${COOKIE.csrf}=${b.cookies.get(COOKIE.csrf)}`,
    token: formFields(page.body, '/login')?.csrf ?? '',
  }
}

interface Material {
  links: { token: string; next: string | undefined }[]
  csrf: { cookie: string; token: string }
}
const material = new Map<TestApp, Material>()
for (const h of [cookieHandoff, codeHandoff]) {
  material.set(h, { links: await reusableLinks(h), csrf: await csrfPair(h) })
}

/** Everything wrong with an answer, with what was sent, for the failure message. */
function problemsOf(sent: Sent & { payload?: unknown }, res: LightMyRequestResponse): string[] {
  return answerProblems(sent, res, routes).map(
    (p) =>
      `${p}: ${sent.method} ${sent.url} ${JSON.stringify(sent.headers)} ` +
      `${String(sent.payload ?? '').slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 200)}`,
  )
}

/** Headers a browser sends with our own form: the CSRF cookie, fetch metadata, Origin. */
const ownForm = (m: Material) =>
  fc.record(
    {
      cookie: fc.oneof(
        { weight: 4, arbitrary: fc.constant(m.csrf.cookie) },
        { weight: 1, arbitrary: hostileString().map((s) => `${m.csrf.cookie}; x=${s}`) },
      ),
      'sec-fetch-site': fc.constantFrom('same-origin', 'none'),
      origin: fc.constantFrom(PUBLIC_URL, 'null'),
    },
    { requiredKeys: ['cookie'] },
  )

/**
 * One request to a page, or next to one: mostly what a browser sends from our own pages (the
 * CSRF pair right, a link's token with the very `next` its MAC binds, so the consume path is
 * reached) with hostile values and headers; otherwise anything at all.
 */
const pageRequest = (m: Material) => {
  const link = fc.constantFrom(...m.links)
  const fields = fc.record(
    {
      csrf: fc.oneof(
        { weight: 4, arbitrary: fc.constant(m.csrf.token) },
        { weight: 1, arbitrary: spliced(m.csrf.token) },
        { weight: 1, arbitrary: hostileString() },
      ),
      token: fc.oneof(
        link.map((l) => l.token),
        hostileString(),
      ),
      next: fc.oneof(
        hostilePath,
        link.map((l) => l.next ?? ''),
      ),
      email: fc.oneof(fc.emailAddress(), hostileEmail),
      elsewhere: fc.constantFrom('confirmed', 'no', '\u200bconfirmed'),
    },
    { requiredKeys: [] },
  )
  const matched = fc.tuple(link, fields).map(([l, f]) => ({
    ...f,
    csrf: m.csrf.token,
    elsewhere: 'confirmed',
    token: l.token,
    next: l.next,
  }))
  const others = hostileHeaders().map(({ cookie, origin, ...rest }) => rest)

  const fromOurPage = fc
    .record({
      path: fc.constantFrom('/login', '/login/link', '/login/link', '/logout'),
      fields: fc.oneof({ weight: 3, arbitrary: matched }, { weight: 1, arbitrary: fields }),
      own: ownForm(m),
      others,
    })
    .chain(({ path, fields, own, others }) =>
      formBody(fields).map((payload) => ({
        method: 'POST',
        url: path,
        headers: {
          ...others,
          ...own,
          'content-type': 'application/x-www-form-urlencoded',
        } as Record<string, string>,
        payload,
      })),
    )

  const opened = fc
    .record({
      method: fc.constantFrom('GET', 'GET', 'HEAD'),
      path: fc.constantFrom(...PAGE_PATHS),
      query: fc.oneof(
        hostileQuery(['next', 'token', 'email', 'csrf']),
        fc
          .tuple(link, hostilePath.chain(urlEncoded))
          .map(([l, n]) => `?token=${l.token}&next=${n}`),
        link.map((l) => `?token=${l.token}${l.next ? `&next=${encodeURIComponent(l.next)}` : ''}`),
      ),
      headers: hostileHeaders(),
    })
    .map(({ method, path, query, headers }) => ({
      method,
      url: `${path}${query}`,
      headers: headers as Record<string, string>,
      payload: undefined as string | undefined,
    }))

  const anything = fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
      path: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...PAGE_PATHS) },
        { weight: 1, arbitrary: fc.constantFrom('/login/', '/login/link/', '/logout/', '/') },
      ),
      query: hostileQuery(['next', 'token', 'email', 'csrf']),
      fields: fc.oneof(matched, fields),
      type: hostileContentType('application/x-www-form-urlencoded'),
      headers: hostileHeaders({ cookie: ownForm(m).map((o) => o.cookie) }),
    })
    .chain(({ method, path, query, fields, type, headers }) =>
      (type?.includes('json') ? fc.constant(JSON.stringify(fields)) : formBody(fields)).map(
        (payload) => {
          const withBody = method !== 'GET' && method !== 'HEAD'
          return {
            method,
            url: `${path}${query}`,
            headers: {
              ...headers,
              ...(withBody && type !== undefined ? { 'content-type': type } : {}),
            } as Record<string, string>,
            payload: withBody ? payload : undefined,
          }
        },
      ),
    )

  return fc
    .oneof(
      { weight: 3, arbitrary: fromOurPage },
      { weight: 2, arbitrary: opened },
      { weight: 2, arbitrary: anything },
    )
    .map(({ method, url, headers, payload }) => {
      const options: InjectOptions & Sent = { method: method as 'GET', url, headers }
      if (payload !== undefined) options.payload = payload
      return options
    })
}

for (const [name, h] of [
  ['cookie', cookieHandoff],
  ['code', codeHandoff],
] as const) {
  t.test(`every page request (${name} handoff): no 5xx, a page for every error`, async (t) => {
    const m = material.get(h) as Material
    let redirects = 0
    await fc.assert(
      fc.asyncProperty(pageRequest(m), async (options) => {
        const res = await h.app.inject(options)
        if (res.statusCode === 303) redirects++
        const found = problemsOf(options, res)
        failIf(found, '')
      }),
      { numRuns: 300 },
    )
    t.ok(redirects > 0, `the runs got through the consume path to a redirect (${redirects})`)
    await assertHealthy(t, h)
  })
}

/**
 * The whole flow a person goes through, with a hostile target and address: the form (with
 * `next` in its query), the post, the emailed link, the confirm page, the button (and the second
 * confirmation), then logout. Every answer is checked; an email accepted by the form is an
 * address without invisible characters; every accepted request gets its email.
 */
const flow = fc.record({
  next: fc.oneof(hostilePath, fc.constantFrom(...TARGETS)),
  // Mostly the link's own target, so the consume path is reached; sometimes another one.
  nextAtConfirm: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: hostilePath },
  ),
  email: fc.oneof(fc.emailAddress(), hostileEmail),
  logoutNext: fc.oneof(hostilePath, fc.constantFrom(...TARGETS)),
  extra: hostileHeaders().map(({ cookie, host, origin, ...rest }) => rest),
})
type Run = typeof flow extends fc.Arbitrary<infer T> ? T : never

/** A person's browser, every answer checked: what it got wrong piles up in `found`. */
class CheckedBrowser extends Browser {
  readonly found: string[] = []

  async visit(url: string, headers: Record<string, string>) {
    return this.#check({ method: 'GET', url, headers }, await this.get(url, headers))
  }

  async submit(url: string, form: Record<string, string>, headers: Record<string, string>) {
    const payload = new URLSearchParams(form).toString()
    return this.#check(
      { method: 'POST', url, headers, payload },
      await this.post(url, form, headers),
    )
  }

  #check(sent: Sent & { payload?: unknown }, res: LightMyRequestResponse) {
    this.found.push(...problemsOf(sent, res))
    return res
  }
}

for (const [name, h] of [
  ['cookie', cookieHandoff],
  ['code', codeHandoff],
] as const) {
  t.test(`the hosted flow with hostile targets and addresses (${name} handoff)`, async (t) => {
    let signedIn = 0

    /** The form, the email, the confirm page and its button: the answer to the last step. */
    const signIn = async (b: CheckedBrowser, { next, nextAtConfirm, email, extra }: Run) => {
      const navigate = { ...extra, 'sec-fetch-site': 'none' }
      const post = { ...extra, ...SAME_ORIGIN }
      const form = await b.visit(`/login?${new URLSearchParams({ next })}`, navigate)
      const fields = formFields(form.body, '/login') ?? {}
      const before = h.mail.length
      const sent = await b.submit('/login', { next, ...fields, email }, post)
      if (sent.statusCode !== 200 || !HEADINGS.sent.test(heading(sent.body))) return
      if (UNPRINTABLE.test(email.trim())) {
        b.found.push(
          `the form accepted an address with invisible characters: ${JSON.stringify(email)}`,
        )
      }
      await h.app.outbox.runOnce()
      const text = h.mail.slice(before).at(-1)?.text ?? ''
      const link = /https:\/\/login\.example\.test(\/login\/link\?\S+)/.exec(text)?.[1]
      if (!link) {
        b.found.push(
          `an accepted request got no email (next ${JSON.stringify(fields.next ?? next)})`,
        )
        return
      }
      const press = formFields((await b.visit(link, navigate)).body, '/login/link')
      if (!press) return
      const pressed = await b.submit(
        '/login/link',
        nextAtConfirm === null ? press : { ...press, next: nextAtConfirm },
        post,
      )
      const again = formFields(pressed.body, '/login/link')
      return again?.elsewhere === 'confirmed' ? b.submit('/login/link', again, post) : pressed
    }

    await fc.assert(
      fc.asyncProperty(flow, async (run) => {
        const b = new CheckedBrowser(h.app)
        const last = await signIn(b, run)
        if (last?.statusCode === 303 || HEADINGS.signedIn.test(heading(last?.body ?? ''))) {
          signedIn++
        }
        await b.submit('/logout', { next: run.logoutNext }, { ...run.extra, ...SAME_ORIGIN })
        failIf(b.found, '')
      }),
      { numRuns: 60 },
    )
    t.ok(signedIn > 0, `some runs signed in (${signedIn})`)
    await assertHealthy(t, h)
  })
}

/** The app still answers, and every email it accepted was built and sent. */
async function assertHealthy(t: Test, h: TestApp): Promise<void> {
  await h.app.outbox.runOnce()
  const ready = await h.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200, 'the app is still ready after the runs')
  const outbox = await h.app.inject({
    method: 'GET',
    url: '/v1/admin/outbox?status=failed',
    headers: asAdmin,
  })
  t.same(outbox.json().counts.failed, 0, 'no email failed to be built or sent')
}
