import { InvalidRequest } from '../errors.js'

export const MAX_REDIRECT_LENGTH = 2048

const BASE = 'http://base.invalid'

/**
 * A redirect target is a path on this site (`/dashboard?tab=2`) or a URL on an origin the
 * operator listed exactly. Everything else is refused rather than repaired: browsers read `//x`,
 * `/\x` and tabs or newlines inside a URL as ways off-site, and `javascript:` is not a place.
 *
 * Returns the target's one canonical spelling: parsed once (WHATWG URL, as browsers do), dot
 * segments resolved, and serialised in ASCII (non-ASCII percent-encoded as UTF-8, the host in
 * punycode, percent-escapes in upper case). That spelling is what a link binds in its MAC, what
 * the outbox keeps, what travels as the link's `next` and what goes into Location, so a header
 * never carries a raw non-ASCII byte and `/日本` and `/%E6%97%A5%E6%9C%AC` are one target.
 * Verifiers canonicalise what they are shown the same way before comparing.
 */
export function checkRedirect(target: string, allowedOrigins: readonly string[]): string {
  if (target.length === 0 || target.length > MAX_REDIRECT_LENGTH) {
    throw new InvalidRequest('redirect_to is empty or too long.')
  }
  // Control characters, spaces and backslashes have no business in a target and are how parsers
  // are made to disagree with browsers. Invisible and bidi formatting characters would reach a
  // person only percent-encoded, but they are never a genuine part of a place either. A lone
  // surrogate would come out of the parser as U+FFFD: a different target.
  if (/[\s\\\p{Cc}\p{Cf}\p{Cs}]/u.test(target)) {
    throw new InvalidRequest('redirect_to contains characters that are not allowed.')
  }
  const refused = new InvalidRequest(
    'redirect_to must be a path on this site or an allowed origin.',
  )
  const canonical = canonicalise(target, allowedOrigins)
  // Parsing the canonical spelling again must give it back unchanged: otherwise what a verifier
  // canonicalises and what a browser follows could differ from what was bound.
  if (
    canonical === undefined ||
    canonical.length > MAX_REDIRECT_LENGTH ||
    canonicalise(canonical, allowedOrigins) !== canonical
  ) {
    throw refused
  }
  return canonical
}

/** The canonical spelling of an acceptable target, or undefined. */
function canonicalise(target: string, allowedOrigins: readonly string[]): string | undefined {
  let result: string
  if (target.startsWith('/')) {
    if (target.startsWith('//')) return undefined
    const url = parse(target, BASE)
    if (!url || url.origin !== BASE) return undefined
    result = `${url.pathname}${url.search}${url.hash}`
    // Dot segments are resolved by now: `/..//evil.example` and `/.//evil.example` have become
    // `//evil.example`, which a browser reads as another host.
    if (result.startsWith('//')) return undefined
  } else {
    // An absolute URL must spell out its scheme and `//` itself: `https:app.example` means a
    // host to a browser and a path to many other parsers. No userinfo, even empty
    // (`https://:@app.example`): it only ever serves to make an address read as another.
    const authority = /^https?:\/\/([^/?#]*)/i.exec(target)?.[1]
    if (authority === undefined || authority.includes('@')) return undefined
    const url = parse(target, undefined)
    if (
      !url ||
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.username !== '' ||
      url.password !== '' ||
      !allowedOrigins.includes(url.origin)
    ) {
      return undefined
    }
    result = url.href
  }
  // Equivalent spellings of one escape (`%c3` and `%C3`) are one target (RFC 3986, 6.2.2.1).
  result = result.replace(/%[0-9a-f]{2}/gi, (hex) => hex.toUpperCase())
  // The WHATWG serialisation is ASCII already; this keeps that a checked fact, not a hope.
  return /^[\x21-\x7e]+$/.test(result) ? result : undefined
}

function parse(target: string, base: string | undefined): URL | undefined {
  try {
    return new URL(target, base)
  } catch {
    return undefined
  }
}

/**
 * A target a page was handed (in its query string or a form field): its canonical spelling when
 * it is one we would redirect to, otherwise none. A page never carries a target on, in a link
 * or a form, that a sign-in would then refuse.
 */
export function offeredRedirect(
  target: string | undefined,
  allowedOrigins: readonly string[],
): string | undefined {
  if (target === undefined || target === '') return undefined
  try {
    return checkRedirect(target, allowedOrigins)
  } catch {
    return undefined
  }
}
