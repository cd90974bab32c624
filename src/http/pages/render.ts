import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Eta } from 'eta'
import { TOKEN_ERROR_CODES } from '../../errors.js'

/** The failures of a link a person can be told about; every other error is not a link's. */
export const LINK_ERROR_REASONS = TOKEN_ERROR_CODES

export type LinkErrorReason = (typeof LINK_ERROR_REASONS)[number]

export interface PageBase {
  appName: string
  csrf: string
}

export type Page =
  /** GET /login: the email form; `error` is shown by the field. */
  | { name: 'login'; next?: string; email?: string; error?: string }
  /**
   * After POST /login: the same page whatever the address, so it reveals no account. It has the
   * sign-in code form (POST /login/code); `codeError` is shown by the code field.
   */
  | { name: 'sent'; email: string; next?: string; codeError?: string }
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
  | { name: 'forbidden'; message: string }
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
 * What people read when a link fails. Backends get the precise code; a person gets what it means
 * for them and what to do next, never the code, and never the token. The Record makes a new
 * reason a compile error here rather than a blank page.
 */
const LINK_ERRORS: Record<LinkErrorReason, { heading: string; sentence: string }> = {
  token_invalid: {
    heading: 'This link doesn’t work',
    sentence:
      'The link may have been cut short or changed on its way to you. Open it again straight from the email, or ask for a new one.',
  },
  token_expired: {
    heading: 'This link has expired',
    sentence: 'Sign-in links only work for a short time, and this one has run out.',
  },
  token_used: {
    heading: 'This link has already been used',
    sentence:
      'Each sign-in link works only once, and this one has been used already, or a newer link was used after it.',
  },
  token_revoked: {
    heading: 'This link has been cancelled',
    sentence:
      'This account’s sign-in links and sessions were ended, so links sent before then no longer work.',
  },
  user_disabled: {
    heading: 'This account can’t sign in',
    sentence:
      'The account this link belongs to has been disabled. If you think that is a mistake, contact the people who run this service.',
  },
  ip_mismatch: {
    heading: 'Open this link on the same network',
    sentence:
      'For your safety, this link only works from the network it was requested from. Ask for a new link from where you are now.',
  },
}

/**
 * Every value reaches the markup through `<%= %>`, which escapes it; the only raw output is the
 * layout printing the body a content template rendered (markup, not data). There are no
 * partials: an include would be a second raw output, so the few repeated fields are written out.
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
  return {
    ...page,
    stylesheet: STYLESHEET_PATH,
    // The app's initial, drawn as its mark; a whole character even outside the BMP.
    mark: Array.from(page.appName.trim())[0]?.toUpperCase() ?? '',
    // Back to the form, keeping the target: the query string is built here and escaped there.
    loginHref: next ? `/login?${new URLSearchParams({ next })}` : '/login',
    ...(page.name === 'link-error' ? (LINK_ERRORS[page.reason] ?? LINK_ERRORS.token_invalid) : {}),
    ...(page.name === 'rate-limited' ? rateLimited(page.limit, page.retryAfterSeconds) : {}),
    ...(page.name === 'confirm' || page.name === 'elsewhere'
      ? { avatar: Array.from(page.maskedEmail)[0]?.toUpperCase() ?? '' }
      : {}),
  }
}

/**
 * What a person past a limit reads: which limit, in their terms, and how long to wait, rounded
 * up to whole minutes (hours past an hour and a half). Nothing in it depends on the address, so
 * it is the same page whether or not the address has an account.
 */
function rateLimited(limit: PageLimit, retryAfterSeconds: number) {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60))
  const hours = Math.ceil(minutes / 60)
  const wait = minutes > 90 ? `${hours} hours` : minutes === 1 ? '1 minute' : `${minutes} minutes`
  const stillWorks =
    'If a sign-in link was sent, it still works: look for it in your inbox, and in your spam or junk folder.'
  if (limit === 'recipient') {
    return {
      heading: 'Too many sign-in emails',
      sentence: `Too many sign-in emails were requested for this address. Try again in ${wait}.`,
      note: stillWorks,
    }
  }
  if (limit === 'code') {
    return {
      heading: 'Too many codes tried',
      sentence: `Too many sign-in codes were tried for this address. Try again in ${wait}.`,
      note: 'The link in the email still works until it expires: open it to sign in.',
    }
  }
  if (limit === 'form') {
    return {
      heading: 'Too many sign-in emails',
      sentence: `Too many sign-in emails were requested from your network. Try again in ${wait}.`,
      note: stillWorks,
    }
  }
  return {
    heading: 'Too many requests',
    sentence: `Too many requests came from your network in a short time. Try again in ${wait}.`,
    note: 'This limit protects the people who use this service. Waiting a moment is enough.',
  }
}
