/**
 * Which of the languages on offer suits a request. Pure functions of their arguments: the pages
 * call them with Accept-Language, the API with its `locale` field, and both with LOCALES and
 * DEFAULT_LOCALE.
 */

/** At most this many ranges are read from one header: a longer one is not a browser's. */
const MAX_RANGES = 32

/**
 * The best of `available` for an Accept-Language header (RFC 9110 §12.5.4): ranges by quality,
 * ties in the order given; a range matches a language exactly or by its prefix (`de-CH` → `de`),
 * `*` matches the fallback; `q=0` rules a language out. No match, or no header: `fallback`.
 */
export function negotiate<L extends string>(
  header: string | undefined,
  available: readonly L[],
  fallback: L,
): L {
  if (!header) return fallback
  const ranges: { tag: string; q: number; order: number }[] = []
  for (const [order, part] of header.split(',').slice(0, MAX_RANGES).entries()) {
    const [rawTag = '', ...params] = part.split(';').map((s) => s.trim())
    const tag = rawTag.toLowerCase()
    if (!/^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)$/.test(tag)) continue
    let q = 1
    for (const param of params) {
      const match = /^q=([01](\.\d{0,3})?)$/i.exec(param)
      if (match) q = Math.min(1, Number(match[1]))
    }
    ranges.push({ tag, q, order })
  }
  ranges.sort((a, b) => b.q - a.q || a.order - b.order)
  const excluded = new Set(ranges.filter((r) => r.q === 0).map((r) => r.tag))
  for (const { tag, q } of ranges) {
    if (q === 0) continue
    const match = tag === '*' ? fallback : bestLocale(tag, available)
    if (match !== undefined && !excluded.has(match)) return match
  }
  return fallback
}

/**
 * The language of `available` a BCP 47 tag asks for: itself, or the nearest by dropping
 * subtags from the end (`de-CH-1996` → `de-CH` → `de`); undefined when none is on offer.
 */
export function bestLocale<L extends string>(tag: string, available: readonly L[]): L | undefined {
  const lower = available.map((locale) => locale.toLowerCase())
  let candidate = tag.toLowerCase()
  while (candidate !== '') {
    const index = lower.indexOf(candidate)
    if (index !== -1) return available[index]
    const cut = candidate.lastIndexOf('-')
    candidate = cut === -1 ? '' : candidate.slice(0, cut)
  }
  return undefined
}
