import type { MailMessage } from '../mailer.js'

export interface LinkMessageInput {
  to: string
  link: string
  appName: string
  ttlSeconds: number
  oneTime: boolean
}

/** The sign-in email: plain text and HTML, every interpolated value escaped. */
export function linkMessage(input: LinkMessageInput): MailMessage {
  const { to, link, appName, ttlSeconds, oneTime } = input
  const validity = `It works ${oneTime ? 'once and ' : ''}for ${describeDuration(ttlSeconds)}.`
  const subject = `Your sign-in link for ${appName}`
  const text = [
    `Sign in to ${appName} with this link:`,
    '',
    link,
    '',
    validity,
    'If you did not ask for this, you can ignore this email.',
  ].join('\n')
  const html = [
    `<p>Sign in to ${escapeHtml(appName)}:</p>`,
    `<p><a href="${escapeHtml(link)}">Sign in</a></p>`,
    `<p>Or open this address: ${escapeHtml(link)}</p>`,
    `<p>${escapeHtml(validity)}</p>`,
    '<p>If you did not ask for this, you can ignore this email.</p>',
  ].join('\n')
  return { to, subject, text, html }
}

export function describeDuration(seconds: number): string {
  if (seconds % 86400 === 0) return plural(seconds / 86400, 'day')
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour')
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute')
  return plural(seconds, 'second')
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`
}

export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}
