import { writeFileSync } from 'node:fs'
import { type Locale, readOneSetting } from '../config/index.js'
import { ConfigError } from '../errors.js'
import { translator } from '../mail/locales/index.js'
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
  // The settings the email shows, read and refused as the service reads and refuses them.
  const problems: string[] = []
  const read = (name: 'LINK_TTL' | 'BRAND_COLOR' | 'DEFAULT_LOCALE') => {
    const { value, problems: found } = readOneSetting(name, setting(name))
    problems.push(...found)
    return value
  }
  const ttl = read('LINK_TTL') as number
  const brandColor = read('BRAND_COLOR') as string | undefined
  const fallback = read('DEFAULT_LOCALE') as Locale
  if (problems.length > 0) throw new ConfigError(problems)
  const language = locale ?? fallback
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
      ttlSeconds: ttl,
      oneTime: true,
      reportLink: `${publicUrl}/login/report?token=${token.toString('base64url')}`,
    },
    words,
  )
}
