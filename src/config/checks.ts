import { GENERATE } from './messages.js'
import type { Config } from './schema.js'
import type { SettingName } from './settings.js'
import type { Env } from './values.js'

/** A rule that spans settings: run whenever every setting it reads is valid on its own. */
interface CrossCheck {
  readonly reads: readonly SettingName[]
  readonly check: (config: Config) => string | undefined
}

/**
 * Each check reads only the fields of `reads`, so it may see a Config whose other fields are
 * still wrong: those are named by their own rows, in the same ConfigError.
 */
export const CROSS_CHECKS: readonly CrossCheck[] = [
  {
    reads: ['LINK_TTL', 'LINK_TTL_MAX'],
    check: (c) =>
      c.linkTtl > c.linkTtlMax
        ? 'LINK_TTL: longer than LINK_TTL_MAX; lower LINK_TTL or raise LINK_TTL_MAX'
        : undefined,
  },
  {
    reads: ['HEADERS_TIMEOUT', 'REQUEST_TIMEOUT'],
    check: (c) =>
      c.server.headersTimeout > c.server.requestTimeout
        ? 'HEADERS_TIMEOUT: longer than REQUEST_TIMEOUT, which includes the headers; lower HEADERS_TIMEOUT or raise REQUEST_TIMEOUT'
        : undefined,
  },
  {
    // The HMAC secrets and the JWT signing keys must be independent: one leaked value must never
    // both forge links and sign sessions. Compared in canonical spelling (refine.ts).
    reads: ['LINK_SECRETS', 'SESSION_KEYS'],
    check: (c) => {
      const sessionSecrets = new Set(
        c.sessionKeys.map((k) => Buffer.from(k.d, 'base64url').toString('base64url')),
      )
      return c.linkSecrets.some((s) => sessionSecrets.has(s.secret))
        ? `LINK_SECRETS and SESSION_KEYS: a link secret is also a session key; ${GENERATE} for each`
        : undefined
    },
  },
  {
    // A code has 40 bits: the guess budget is what makes that enough (DESIGN security 18).
    // Development may switch it off to script sign-ins; production may only set its size.
    reads: ['NODE_ENV', 'RATE_LIMIT_CODE'],
    check: (c) =>
      c.production && c.rateLimits.code === null
        ? 'RATE_LIMIT_CODE: off, which production refuses (a sign-in code is only safe with a guess budget); set count/window, like 5/15m'
        : undefined,
  },
  {
    reads: ['MAIL_TRANSPORT', 'RESEND_API_KEY'],
    check: (c) =>
      c.mail.transport === 'resend' && !c.mail.resendApiKey
        ? 'RESEND_API_KEY: missing, and MAIL_TRANSPORT=resend needs it; set your Resend API key'
        : undefined,
  },
  {
    reads: ['MAIL_TRANSPORT', 'SMTP_URL'],
    check: (c) =>
      c.mail.transport === 'smtp' && !c.mail.smtpUrl
        ? 'SMTP_URL: missing, and MAIL_TRANSPORT=smtp needs it; set smtp://user:pass@host:587 or smtps://user:pass@host:465'
        : undefined,
  },
  {
    reads: ['LOCALES', 'DEFAULT_LOCALE'],
    check: (c) =>
      c.locales.includes(c.defaultLocale)
        ? undefined
        : `DEFAULT_LOCALE: ${c.defaultLocale} is not in LOCALES (${c.locales.join(',')}); add it to LOCALES or choose one of them`,
  },
  {
    reads: ['WEBHOOK_URLS', 'WEBHOOK_SECRET'],
    check: (c) =>
      c.webhooks.urls.length > 0 && !c.webhooks.secret
        ? 'WEBHOOK_SECRET: missing, and WEBHOOK_URLS needs it to sign webhooks; generate one with `echo whsec_$(openssl rand -base64 32)` and give receivers the same'
        : undefined,
  },
  {
    // Plain http is for a receiver on this machine under development: in production, a webhook
    // (who was revoked, whose session ended) crosses a network only inside TLS.
    reads: ['NODE_ENV', 'WEBHOOK_URLS'],
    check: (c) => {
      const plain = c.webhooks.urls.find((url) => url.startsWith('http:'))
      return c.production && plain !== undefined
        ? `WEBHOOK_URLS: ${plain} is not https, which production needs; use the receiver's https:// URL`
        : undefined
    },
  },
]

/** Secrets whose absence in production is an error rather than something to generate. */
export const GENERATED_IN_DEVELOPMENT = ['LINK_SECRETS', 'SESSION_KEYS', 'API_KEYS'] as const

/** What production demands, read from the environment whatever else is wrong with it. */
export function productionChecks(env: Env): string[] {
  const problems: string[] = []
  const set = (name: string) => Boolean(env[name]?.trim())
  for (const name of GENERATED_IN_DEVELOPMENT) {
    if (!set(name)) problems.push(`${name}: missing, and production needs it; ${GENERATE}`)
  }
  const transport = env.MAIL_TRANSPORT?.trim()
  if (!transport) {
    problems.push('MAIL_TRANSPORT: missing, and production needs it; set resend or smtp')
  } else if (transport === 'log') {
    // The log transport prints every sign-in link: whoever reads the logs could sign in as anyone.
    problems.push(
      'MAIL_TRANSPORT: log prints sign-in links to the console, which production refuses; set resend or smtp',
    )
  }
  if (transport === 'resend' && !set('MAIL_FROM')) {
    problems.push(
      'MAIL_FROM: missing, and production needs it with resend; set an address on a domain Resend verified',
    )
  }
  if (transport === 'smtp' && !set('MAIL_FROM')) {
    problems.push(
      'MAIL_FROM: missing, and production needs it with smtp; set an address your relay lets latchkey send as',
    )
  }
  if (!env.PUBLIC_URL?.trim().startsWith('https://')) {
    problems.push(
      'PUBLIC_URL: not https, which production needs (links carry sign-in tokens); set the https:// address people reach latchkey at',
    )
  }
  return problems
}
