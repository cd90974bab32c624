import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Eta } from 'eta'
import { TOKEN_ERROR_CODES } from '../../errors.js'
import {
  type MessageKey,
  rich,
  type Translator,
  type Vars,
  type Wrap,
} from '../../mail/locales/index.js'

/** The failures of a link a person can be told about; every other error is not a link's. */
export const LINK_ERROR_REASONS = TOKEN_ERROR_CODES

export type LinkErrorReason = (typeof LINK_ERROR_REASONS)[number]

export interface PageBase {
  appName: string
  csrf: string
  /** The words of the page, in the language chosen for this request. */
  translator: Translator
}

export type Page =
  /** GET /login: the email form; `error` is shown by the field. */
  | { name: 'login'; next?: string; email?: string; error?: MessageKey }
  /**
   * After POST /login: the same page whatever the address, so it reveals no account. It has the
   * sign-in code form (POST /login/code); `codeError` is shown by the code field.
   */
  | { name: 'sent'; email: string; next?: string; codeError?: MessageKey; masked?: boolean }
  /** GET /login/link: changes nothing; one button posts the token back. */
  | { name: 'confirm'; maskedEmail: string; token: string; next?: string }
  /** The link was requested in another browser or device: a second, explicit confirmation. */
  | { name: 'elsewhere'; maskedEmail: string; token: string; next?: string }
  /** Signed in, with no target to go to. */
  | { name: 'signed-in'; email: string }
  /** GET /logout: changes nothing; one button posts the sign-out, then on to `next`. */
  | { name: 'logout'; next?: string }
  /** A link that cannot be used: one friendly sentence and a form for a new link. */
  | { name: 'link-error'; reason: LinkErrorReason; next?: string; resend?: Resend }
  /** GET /login/report: what "this wasn't me" will do; each of its two buttons posts. */
  | { name: 'report'; maskedEmail: string; token: string }
  /** After POST /login/report: what was done. */
  | { name: 'reported'; maskedEmail: string; endedSessions: boolean }
  /** A request we refused (cross-site form, missing CSRF token). */
  | { name: 'forbidden'; message: MessageKey }
  /**
   * Past a rate limit: of this network's requests (`ip`), of the emails to one address
   * (`recipient`), of the emails this network asked for through the form (`form`), or of the
   * sign-in codes tried for one address (`code`).
   */
  | {
      name: 'rate-limited'
      limit: PageLimit
      retryAfterSeconds: number
      next?: string
    }
  /** The database does not answer: nothing was done, try again shortly. */
  | { name: 'unavailable'; next?: string }

/** The limits a person can be told they are past. */
export type PageLimit = 'ip' | 'recipient' | 'form' | 'code'

/**
 * The one-click recovery an expired or used login link's page offers: the failed link's token
 * (a hidden field, never shown) and the target it binds.
 */
export interface Resend {
  token: string
  next?: string | undefined
}

export const STYLESHEET_PATH = '/assets/latchkey.css'

/**
 * Every value reaches the markup through `<%= %>`, which escapes it. The raw outputs are the
 * layout printing the body a content template rendered (markup, not data), and `it.rich`, which
 * escapes every part itself (mail/locales/rich.ts). There are no partials: an include would be
 * another raw output, so the few repeated fields are written out.
 */
const eta = new Eta({ autoEscape: true, cache: true })

// Compiled once, when this module loads: a page renders without reading a file, and a template
// missing from the build fails at start-up rather than at the first visitor.
const HERE = new URL('.', import.meta.url)
const TEMPLATES = [
  'layout',
  'login',
  'sent',
  'confirm',
  'elsewhere',
  'signed-in',
  'logout',
  'link-error',
  'report',
  'reported',
  'forbidden',
  'rate-limited',
  'unavailable',
] as const
for (const name of TEMPLATES) {
  eta.loadTemplate(`@${name}`, readFileSync(new URL(`${name}.eta`, HERE), 'utf8'))
}

const CSS = readFileSync(new URL('assets/latchkey.css', HERE), 'utf8')
// Strong: the bytes are exactly these until the process restarts with another build.
const STYLESHEET = Object.freeze({
  body: CSS,
  etag: `"${createHash('sha256').update(CSS).digest('base64url')}"`,
})

/** The stylesheet every page links to, read once, and its strong ETag. */
export function stylesheet(): { body: string; etag: string } {
  return STYLESHEET
}

/** One complete HTML document for `page`; every value in it is escaped. */
export function renderPage(page: Page & PageBase): string {
  return eta.render(`@${page.name}`, view(page))
}

/** The page's own values, plus what its templates derive from them. */
function view(page: Page & PageBase) {
  const next = 'next' in page ? page.next : undefined
  const { translator } = page
  return {
    ...page,
    lang: translator.locale,
    t: translator.t,
    rich: (key: MessageKey, vars: Vars, wraps: Record<string, Wrap>) =>
      rich(translator, key, vars, wraps),
    stylesheet: STYLESHEET_PATH,
    // The app's initial, drawn as its mark; a whole character even outside the BMP.
    mark: Array.from(page.appName.trim())[0]?.toUpperCase() ?? '',
    // Back to the form, keeping the target: the query string is built here and escaped there.
    loginHref: next ? `/login?${new URLSearchParams({ next })}` : '/login',
    ...(page.name === 'link-error' ? linkError(translator, page.reason) : {}),
    ...(page.name === 'rate-limited'
      ? rateLimited(translator, page.limit, page.retryAfterSeconds)
      : {}),
    ...(page.name === 'confirm' || page.name === 'elsewhere'
      ? { avatar: Array.from(page.maskedEmail)[0]?.toUpperCase() ?? '' }
      : {}),
  }
}

/**
 * What people read when a link fails. Backends get the precise code; a person gets what it means
 * for them and what to do next, never the code, and never the token. A reason the catalogue
 * lacks (there is none: a test holds them together) would read as a forged link.
 */
function linkError({ t }: Translator, reason: LinkErrorReason) {
  const known = (LINK_ERROR_REASONS as readonly string[]).includes(reason)
    ? reason
    : 'token_invalid'
  return {
    heading: t(`linkError.${known}.heading` as MessageKey),
    sentence: t(`linkError.${known}.sentence` as MessageKey),
  }
}

/**
 * What a person past a limit reads: which limit, in their terms, and how long to wait (see
 * Translator.wait). Nothing in it depends on the address, so it is the same page whether or not
 * the address has an account.
 */
function rateLimited({ t, wait }: Translator, limit: PageLimit, retryAfterSeconds: number) {
  const vars = { wait: wait(retryAfterSeconds) }
  return {
    heading: t(`rateLimited.${limit}.heading`),
    sentence: t(`rateLimited.${limit}.sentence`, vars),
    note: t(
      limit === 'code' || limit === 'ip' ? `rateLimited.${limit}.note` : 'rateLimited.stillWorks',
    ),
  }
}
