/** The five characters XML escaping changes, as Eta escapes them. */
export const escapeXml = (value: string): string =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )

/** The text behind escapeXml's five entities. */
export const unescapeXml = (value: string): string =>
  value.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? '',
  )

/** How many times `needle` occurs in `haystack`. */
export const count = (haystack: string, needle: string): number => haystack.split(needle).length - 1

/** The hidden fields of the (first) form posting to `action`, unescaped; undefined without one. */
export function formFields(html: string, action: string): Record<string, string> | undefined {
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    if (!(m[1] ?? '').includes(`action="${action}"`)) continue
    const fields: Record<string, string> = {}
    for (const h of (m[2] ?? '').matchAll(
      /<input type="hidden" name="([^"]*)" value="([^"]*)">/g,
    )) {
      fields[h[1] ?? ''] = unescapeXml(h[2] ?? '')
    }
    return fields
  }
  return undefined
}
