import { InvalidRequest } from '../errors.js'

export const MAX_REDIRECT_LENGTH = 2048

const BASE = 'http://base.invalid'

/**
 * A redirect target is a path on this site (`/dashboard?tab=2`) or a URL on an origin the
 * operator listed exactly. Everything else is refused rather than repaired: browsers read `//x`,
 * `/\x` and tabs or newlines inside a URL as ways off-site, and `javascript:` is not a place.
 * Returns the target unchanged, since the token's MAC binds the exact string.
 */
export function checkRedirect(target: string, allowedOrigins: readonly string[]): string {
  if (target.length === 0 || target.length > MAX_REDIRECT_LENGTH) {
    throw new InvalidRequest('redirect_to is empty or too long.')
  }
  // Control characters, spaces and backslashes have no business in a target and are how parsers
  // are made to disagree with browsers.
  if (/[\s\\\p{Cc}]/u.test(target)) {
    throw new InvalidRequest('redirect_to contains characters that are not allowed.')
  }
  const refused = new InvalidRequest(
    'redirect_to must be a path on this site or an allowed origin.',
  )
  if (target.startsWith('//')) throw refused
  const url = parse(target, target.startsWith('/') ? BASE : undefined)
  if (!url) throw refused
  if (target.startsWith('/')) {
    if (url.origin !== BASE) throw refused
    return target
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.username !== '' ||
    url.password !== '' ||
    !target.toLowerCase().startsWith(`${url.origin}`.toLowerCase()) ||
    !allowedOrigins.includes(url.origin)
  ) {
    throw refused
  }
  return target
}

function parse(target: string, base: string | undefined): URL | undefined {
  try {
    return new URL(target, base)
  } catch {
    return undefined
  }
}
