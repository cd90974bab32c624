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
