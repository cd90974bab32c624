import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyCookie from '@fastify/cookie'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import Fastify from 'fastify'
import {
  type Browser,
  type BrowserContext,
  type Cookie,
  chromium,
  type Page,
  type Response,
} from 'playwright-core'
import type { Test } from 'tap'
import type { Env } from '../../src/config/index.js'
import type { App } from '../../src/http/types.js'
import { asAdmin, asService, build, serviceKey } from '../helpers/app.js'
import { ManualClock } from '../helpers/clock.js'
import { type FakeEmail, type FakeResend, startFakeResend } from '../helpers/fake-resend.js'
import { escapeXml } from '../helpers/html.js'
import { until } from '../helpers/poll.js'
import { freePort } from '../helpers/process.js'

// End to end: the real service, listening on a real port, with its outbox worker running on its
// own and sending through the real Resend SDK to a local fake; Debian's Chromium driven by
// playwright-core. Nothing here leaves the loopback interface.

export const CHROMIUM = '/usr/bin/chromium'

/** Cookie names the hosted pages set (src/http/browser.ts). */
export const SESSION_COOKIE = '__Host-latchkey-session'
export const BINDING_COOKIE = '__Host-latchkey-bind'

/** One viewport for every page and screenshot, so pictures compare from run to run. */
const VIEWPORT = { width: 800, height: 900 }

export const SCREENSHOTS = fileURLToPath(
  new URL('../../test-results/screenshots/', import.meta.url),
)

/** How long any condition may take before a test gives up on it. */
const WAIT_MS = 10_000
const WAIT_SECONDS = WAIT_MS / 1000

/**
 * Debian's Chromium, headless. A missing browser fails the run, loudly: CI installs it
 * (`.ci/run`), and a skipped end-to-end suite would pass without testing anything.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the end-to-end tests need it ` +
        '(apt-get install --no-install-recommends chromium)',
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Belt and braces: no name but localhost resolves, so a redirect that got off-site could
      // never reach a real host (127.0.0.1 is a literal and needs no resolving).
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost',
    ],
  })
}

/** A browser profile of its own (cookies included), at the fixed viewport, in light mode. */
export interface Tab {
  context: BrowserContext
  page: Page
  /** Every URL this context requested, redirects included, in order. */
  requests: { method: string; url: string }[]
  /** Every answer this context received, redirects included, in order. */
  responses: { method: string; url: string; status: number; location?: string }[]
  /**
   * Console errors and uncaught page errors (a Content-Security-Policy violation is one); not
   * Chromium's note on each 4xx answer, which error pages are by design.
   */
  consoleErrors: string[]
  cookie(name: string): Promise<Cookie | undefined>
}

/** A new tab in `browser` for a test, closed with it. */
export async function tabFor(t: Test, browser: Browser): Promise<Tab> {
  const opened = await newTab(browser)
  t.teardown(() => opened.context.close())
  return opened
}

/** `locale`: the browser's language, which it sends as Accept-Language (en-US unless told). */
export async function newTab(browser: Browser, { locale = 'en-US' } = {}): Promise<Tab> {
  const context = await browser.newContext({
    viewport: VIEWPORT,
    deviceScaleFactor: 1,
    colorScheme: 'light',
    reducedMotion: 'reduce',
    locale,
  })
  const requests: Tab['requests'] = []
  const responses: Tab['responses'] = []
  context.on('request', (request) =>
    requests.push({ method: request.method(), url: request.url() }),
  )
  context.on('response', (response) => {
    const location = response.headers().location
    responses.push({
      method: response.request().method(),
      url: response.url(),
      status: response.status(),
      ...(location ? { location } : {}),
    })
  })
  // Only loopback: a request for anywhere else is refused here (and recorded above); the target
  // of a redirect, which routes do not see, cannot resolve (see launchChromium).
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url())
    return isLoopback(hostname) ? route.continue() : route.abort('blockedbyclient')
  })
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT_MS)
  const consoleErrors: string[] = []
  page.on('console', (message) => {
    const text = message.text()
    if (message.type() === 'error' && !text.startsWith('Failed to load resource')) {
      consoleErrors.push(text)
    }
  })
  page.on('pageerror', (error) => consoleErrors.push(error.message))
  return {
    context,
    page,
    requests,
    responses,
    consoleErrors,
    cookie: async (name) => (await context.cookies()).find((c) => c.name === name),
  }
}

export const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '127.0.0.1'

export interface Latchkey {
  /** PUBLIC_URL: `http://localhost:<port>`. */
  url: string
  /** The same server by address, as a backend next to it would call it. */
  direct: string
  port: number
  app: App
  fake: FakeResend
  /** The system clock, which a test can move forward (for expired links). */
  clock: ManualClock
  /** Every log line the service wrote. */
  logs: string[]
  /** The next email to `to` the fake received (each is handed out once), when it arrives. */
  nextEmail(to: string): Promise<FakeEmail>
  /** The sign-in link in the next email to `to`. */
  nextLink(to: string): Promise<string>
  /** A service-API request through app.inject (setup and checks, not the browser's path). */
  service(method: 'GET' | 'POST', url: string, payload?: object): Promise<LightMyRequestResponse>
  admin(method: 'GET' | 'POST', url: string, payload?: object): Promise<LightMyRequestResponse>
  /** A link issued through the API (not browser-bound), not emailed. */
  apiLink(email: string, extra?: object): Promise<{ link: string; userId: string }>
}

/**
 * The real service as `latchkey serve` runs it: configuration from the environment (MAIL_TRANSPORT
 * resend, pointed at a fake Resend), a real SQLite file, the outbox worker on its own, listening
 * on 127.0.0.1 with PUBLIC_URL on localhost (a secure context, so `__Host-` cookies work). Closed
 * at the test's teardown.
 */
export async function startLatchkey(
  t: Test,
  env: Env = {},
  clock = new ManualClock(Date.now),
): Promise<Latchkey> {
  const fake = await startFakeResend()
  t.teardown(() => fake.close())
  const port = await freePort()
  const url = `http://localhost:${port}`
  const {
    app: running,
    config,
    logs,
  } = await build(t, {
    clock,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      ALLOWED_REDIRECTS: '',
      MAIL_TRANSPORT: 'resend',
      RESEND_API_KEY: fake.apiKey,
      RESEND_BASE_URL: fake.url,
      MAIL_FROM: 'latchkey <login@example.test>',
      ...env,
    },
    // The transport from the environment, and the worker on its own, as in production.
    overrides: { mailer: undefined, outbox: { autoStart: true } },
  })
  await running.listen({ host: config.host, port: config.port })

  const handedOut = new Map<string, number>()
  const nextEmail = async (to: string) => {
    const index = handedOut.get(to) ?? 0
    const email = await until(
      () => fake.emails.filter((e) => e.to.includes(to))[index],
      `email #${index + 1} to ${to}`,
      WAIT_SECONDS,
      10,
    )
    handedOut.set(to, index + 1)
    return email
  }
  const linkPattern = new RegExp(`${url.replace(/[.]/g, '\\.')}/login/link\\?token=\\S+`)
  const inject =
    (headers: InjectOptions['headers']) =>
    (method: 'GET' | 'POST', path: string, payload?: object) =>
      running.inject({ method, url: path, headers, ...(payload ? { payload } : {}) })
  const service = inject(asService)

  return {
    url,
    direct: `http://127.0.0.1:${port}`,
    port,
    app: running,
    fake,
    clock,
    logs,
    nextEmail,
    async nextLink(to) {
      const email = await nextEmail(to)
      const link = email.text?.match(linkPattern)?.[0]
      if (!link) throw new Error(`no sign-in link in the email to ${to}: ${email.text}`)
      return link
    },
    service,
    admin: inject(asAdmin),
    async apiLink(email, extra = {}) {
      const res = await service('POST', '/v1/links', { email, deliver: 'none', ...extra })
      if (res.statusCode !== 202) throw new Error(`POST /v1/links: ${res.statusCode} ${res.body}`)
      const body = res.json() as { link: string; user_id: string }
      return { link: body.link, userId: body.user_id }
    },
  }
}

/** The session an exchange answered with, as the application's backend keeps it. */
export interface TradedSession {
  jwt: string
  refresh_token: string
  session_id: string
}

/** What the application in front of latchkey saw and did. */
export interface TargetApp {
  /** `http://localhost:<port>`: the origin to list in ALLOWED_REDIRECTS. */
  url: string
  /** Every request it received: path and query, as the browser sent them. */
  hits: string[]
  /** Each code it traded at POST /v1/sessions/exchange, and latchkey's answer. */
  exchanges: { code: string; status: number; email?: string; session?: TradedSession }[]
}

/**
 * A tiny application on another localhost port, as a customer would build one:
 * - `/callback?code=…` (code handoff): its backend trades the code for a session with its
 *   service API key and says who signed in;
 * - `/whoami` (cookie handoff, same site): reads latchkey's session cookie and asks latchkey
 *   whether it is active;
 * - anything else: says what it received.
 * Its port is taken before latchkey starts, so latchkey can list it in ALLOWED_REDIRECTS; `use`
 * tells it where latchkey listens. Closed at the test's teardown.
 */
export async function startTargetApp(
  t: Test,
  port: number,
): Promise<TargetApp & { use(latchkey: Latchkey): void }> {
  const url = `http://localhost:${port}`
  const hits: string[] = []
  const exchanges: TargetApp['exchanges'] = []
  let latchkey: Latchkey | undefined
  const server = Fastify({ logger: false })
  t.teardown(() => server.close())
  await server.register(fastifyCookie)

  const api = async (path: string, body: object) => {
    if (!latchkey) throw new Error('the target app does not know latchkey yet')
    const res = await fetch(`${latchkey.direct}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serviceKey.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }
  const page = (title: string, text: string) =>
    `<!doctype html><html lang="en"><title>${escapeXml(title)}</title>` +
    `<h1>${escapeXml(text)}</h1></html>`

  server.addHook('onRequest', async (request) => {
    hits.push(request.url)
  })
  server.get('/callback', async (request, reply) => {
    const { code } = request.query as { code?: string }
    reply.type('text/html; charset=utf-8')
    if (!code) return page('Example app', 'No code received')
    const res = await api('/v1/sessions/exchange', { code })
    const session = res.status === 200 ? (res.body as unknown as TradedSession) : undefined
    const email = session ? emailOf(session.jwt) : undefined
    exchanges.push({
      code,
      status: res.status,
      ...(email ? { email } : {}),
      ...(session ? { session } : {}),
    })
    return page('Example app', email ? `Signed in as ${email}` : `Exchange failed: ${res.status}`)
  })
  server.get('/whoami', async (request, reply) => {
    reply.type('text/html; charset=utf-8')
    const jwt = request.cookies[SESSION_COOKIE]
    if (!jwt) return page('Example app', 'Not signed in')
    const res = await api('/v1/sessions/introspect', { jwt })
    return page(
      'Example app',
      res.body.active === true ? `Signed in as ${emailOf(jwt)}` : 'Session not active',
    )
  })
  server.setNotFoundHandler(async (request, reply) =>
    reply.type('text/html; charset=utf-8').send(page('Example app', `Received ${request.url}`)),
  )
  await server.listen({ host: '127.0.0.1', port })

  return {
    url,
    hits,
    exchanges,
    use(service) {
      latchkey = service
    },
  }
}

/** The `email` claim of a session JWT (the app trusts latchkey's answer that it is active). */
function emailOf(jwt: string): string {
  const payload = jwt.split('.')[1] ?? ''
  return String(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).email)
}

/**
 * latchkey in one handoff mode, with an application on another localhost port it may send to;
 * both closed at the test's teardown.
 */
export async function startPair(
  t: Test,
  handoff: 'cookie' | 'code',
): Promise<{ latchkey: Latchkey; target: TargetApp }> {
  const target = await startTargetApp(t, await freePort())
  const latchkey = await startLatchkey(t, { HANDOFF: handoff, ALLOWED_REDIRECTS: target.url })
  target.use(latchkey)
  return { latchkey, target }
}

/**
 * Opens the form (with `next` in its URL when given), asks for a link for `email`, and waits for
 * the email. `forge` puts a `next` into the form post itself, as a hostile page would.
 */
export async function requestLink(
  tab: Tab,
  latchkey: Latchkey,
  email: string,
  next?: string,
  options: { forge?: string } = {},
): Promise<string> {
  const { page } = tab
  const query = next === undefined ? '' : `?${new URLSearchParams({ next })}`
  await page.goto(`${latchkey.url}/login${query}`)
  if (options.forge !== undefined) await forgeNext(tab, options.forge)
  await page.getByLabel('Email address').fill(email)
  await press(tab, 'Email me a sign-in link')
  await page.getByRole('heading', { name: 'Check your email' }).waitFor()
  return latchkey.nextLink(email)
}

/**
 * Presses a form's button and returns the answer to the POST it sends. A 403 ("Request blocked")
 * fails at once, saying what the browser sent: our own form refused in a real browser is a bug,
 * and waiting out a timeout would only hide it. Pass `refused` where the test expects one.
 */
export async function press(
  tab: Tab,
  button: string,
  options: { refused?: boolean } = {},
): Promise<Response> {
  const answered = tab.page.waitForResponse(
    (r) => r.request().method() === 'POST' && r.request().isNavigationRequest(),
  )
  await tab.page.getByRole('button', { name: button }).click()
  const answer = await answered
  if (answer.status() === 403 && !options.refused) {
    const { origin } = await answer.request().allHeaders()
    throw new Error(
      `POST ${new URL(answer.url()).pathname} from latchkey's own page was refused (403 Request ` +
        `blocked); the browser sent Origin: ${origin ?? '(none)'}`,
    )
  }
  return answer
}

/** Adds (or replaces) a hidden `next` in the page's form, as a forged post would carry it. */
export async function forgeNext(tab: Tab, value: string): Promise<void> {
  // A string, evaluated in the page: the tests compile without the DOM library.
  await tab.page.evaluate(
    `(() => {
      const form = document.querySelector('form')
      const input = form.querySelector('input[name="next"]') ?? document.createElement('input')
      input.type = 'hidden'
      input.name = 'next'
      input.value = ${JSON.stringify(value)}
      form.append(input)
    })()`,
  )
}

/** The POSTs a context made to the confirm endpoint: one per click of a confirm button. */
export const confirmPosts = (tab: Tab, latchkey: Latchkey): number =>
  tab.requests.filter((r) => r.method === 'POST' && r.url === `${latchkey.url}/login/link`).length

/** Writes a screenshot of the page as it is now to test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const path = `${SCREENSHOTS}${name}.png`
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' })
  return path
}
