import { writeFileSync } from 'node:fs'
import { type Locale, SHIPPED_LOCALES } from '../config/index.js'
import { ConfigError } from '../errors.js'
import { bestLocale, translator } from '../mail/locales/index.js'
import { loadLook } from '../mail/look.js'
import type { MailMessage } from '../mail/mailer.js'
import { linkMessages } from '../mail/templates/link.js'

export function mailPreview({ out, locale }: { out?: string; locale?: Locale }): void {
  const message = previewMessage(process.env, locale)
  if (out !== undefined) {
    writeFileSync(out, message.html)
    process.stdout.write(
      `Wrote the HTML part of "${message.subject}" (${message.lang}) to ${out}.\n`,
    )
    return
  }
  process.stdout.write(
    [
      `To: ${message.to}`,
      `Subject: ${message.subject}`,
      `Content-Language: ${message.lang}`,
      '',
      '--- text/plain ---',
      message.text.trimEnd(),
      '',
      '--- text/html ---',
      message.html.trimEnd(),
      '',
    ].join('\n'),
  )
}

/**
 * A sample of the sign-in email (latchkey's one email) for designers, in the language asked for.
 * Only the settings the email shows are read, directly: loading the whole configuration would
 * demand keys and a data directory, and the sample token is a fixed placeholder, minted with no
 * secret. TEMPLATES_DIR, BRAND_COLOR and LOGO_FILE are read and checked as at start, so an
 * operator sees their own email, or the same refusal the service would give.
 */
function previewMessage(env: NodeJS.ProcessEnv, locale: Locale | undefined): MailMessage {
  const setting = (name: string) => env[name]?.trim() || undefined
  const publicUrl = (setting('PUBLIC_URL') ?? 'http://localhost:3000').replace(/\/+$/, '')
  const ttl = setting('LINK_TTL') ?? '900'
  const problems: string[] = []
  if (!/^[1-9][0-9]*$/.test(ttl)) problems.push('LINK_TTL: must be a whole number of seconds')
  const brandColor = setting('BRAND_COLOR')
  if (brandColor !== undefined && !/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(brandColor)) {
    problems.push(`BRAND_COLOR: "${brandColor}" is not a colour; set a hex colour like #0f766e`)
  }
  const fallback = setting('DEFAULT_LOCALE')
  const language =
    locale ?? (fallback === undefined ? undefined : bestLocale(fallback, SHIPPED_LOCALES)) ?? 'en'
  if (problems.length > 0) throw new ConfigError(problems)
  const look = loadLook({
    templatesDir: setting('TEMPLATES_DIR'),
    brandColor,
    logoFile: setting('LOGO_FILE'),
  })
  const words = translator(language, look.catalogues[language])
  // Token-shaped (48 bytes, 64 characters) so the sample wraps like a real link; it verifies nowhere.
  const token = Buffer.from('latchkey mail preview: this is not a real token!')
  return linkMessages(look, { publicUrl, translators: [words] }).render(
    {
      to: 'someone@example.com',
      link: `${publicUrl}/login/link?token=${token.toString('base64url')}`,
      appName: setting('APP_NAME') ?? 'latchkey',
      ttlSeconds: Number(ttl),
      oneTime: true,
      reportLink: `${publicUrl}/login/report?token=${token.toString('base64url')}`,
    },
    words,
  )
}
