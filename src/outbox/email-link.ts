import type { Purpose } from '../tokens/codec.js'

/**
 * What the outbox keeps of a link to email (job kind `email`): the token's fields and context,
 * from which the link is minted at send time. Never the token: nothing secret is stored.
 */
export interface LinkPayload {
  purpose: Purpose
  flags: number
  expiresAt: number
  rev: number
  seq: number
  scope?: string | undefined
  redirect?: string | undefined
  ip?: string | undefined
  ttlSeconds: number
  /**
   * The language the email is written in: the one the person's browser was shown the form in, or
   * the API request's `locale`. Absent: DEFAULT_LOCALE, as it is when the email is sent.
   */
  locale?: string | undefined
}

/** Links are built from PUBLIC_URL alone: never from a Host or X-Forwarded-Host header. */
export function buildLink(publicUrl: string, token: string, next: string | undefined): string {
  const url = `${publicUrl}/login/link?token=${token}`
  return next === undefined ? url : `${url}&next=${encodeURIComponent(next)}`
}

/** The "this wasn't me" link of a sign-in email: from PUBLIC_URL alone, like the link. */
export function buildReportLink(publicUrl: string, token: string): string {
  return `${publicUrl}/login/report?token=${token}`
}
