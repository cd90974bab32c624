import { writeFileSync } from 'node:fs'
import { ConfigError } from '../errors.js'
import type { MailMessage } from '../mail/mailer.js'
import { linkMessage } from '../mail/templates/link.js'

export function mailPreview({ out }: { out?: string }): void {
  const message = previewMessage(process.env)
  if (out !== undefined) {
    writeFileSync(out, message.html)
    process.stdout.write(`Wrote the HTML part of "${message.subject}" to ${out}.\n`)
    return
  }
  process.stdout.write(
    [
      `To: ${message.to}`,
      `Subject: ${message.subject}`,
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
 * A sample of the sign-in email for designers. Only the three settings the email shows are read,
 * directly: loading the whole configuration would demand keys and a data directory, and the
 * sample token is a fixed placeholder, minted with no secret.
 */
function previewMessage(env: NodeJS.ProcessEnv): MailMessage {
  const setting = (name: string) => env[name]?.trim() || undefined
  const publicUrl = (setting('PUBLIC_URL') ?? 'http://localhost:3000').replace(/\/+$/, '')
  const ttl = setting('LINK_TTL') ?? '900'
  if (!/^[1-9][0-9]*$/.test(ttl)) {
    throw new ConfigError(['LINK_TTL: must be a whole number of seconds'])
  }
  // Token-shaped (48 bytes, 64 characters) so the sample wraps like a real link; it verifies nowhere.
  const token = Buffer.from('latchkey mail preview: this is not a real token!')
  return linkMessage({
    to: 'someone@example.com',
    link: `${publicUrl}/login/link?token=${token.toString('base64url')}`,
    appName: setting('APP_NAME') ?? 'latchkey',
    ttlSeconds: Number(ttl),
    oneTime: true,
    reportLink: `${publicUrl}/login/report?token=${token.toString('base64url')}`,
  })
}
