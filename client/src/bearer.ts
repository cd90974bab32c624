import { LatchkeyError } from './errors.js'

/** The token of an `Authorization: Bearer …` header (scheme case-insensitive, RFC 6750). */
export function bearerOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? undefined : header
  const match = value === undefined ? null : /^Bearer +([\w.~+/-]+=*)$/i.exec(value)
  if (match === null) {
    throw new LatchkeyError('unauthorized', 401, 'a Bearer session JWT is required')
  }
  return match[1] as string
}

/** The problem+json answer for a failed verify, and its WWW-Authenticate (RFC 6750, 3). */
export function rejection(error: LatchkeyError): {
  status: number
  headers: Record<string, string>
  body: string
} {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' }
  if (error.status === 401) {
    headers['www-authenticate'] =
      error.code === 'unauthorized' ? 'Bearer' : 'Bearer error="invalid_token"'
  }
  if (error.status === 503) headers['retry-after'] = '5'
  const body = JSON.stringify({
    type: 'about:blank',
    title: error.status === 503 ? 'Service Unavailable' : 'Unauthorized',
    status: error.status,
    detail: error.message,
    code: error.code,
  })
  return { status: error.status, headers, body }
}
