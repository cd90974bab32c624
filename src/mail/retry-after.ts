/** A receiver asking for a longer pause is not taken literally: the outbox still gets to decide. */
const MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60

const HTTP_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/

/**
 * Retry-After (RFC 9110 §10.2.3) as whole seconds from now: delay-seconds or an IMF-fixdate, the
 * form every current server sends. Anything else is ignored rather than guessed at, because
 * Date.parse accepts strings such as "1" or "7.5" and would turn them into years.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  let seconds: number
  if (/^\d+$/.test(trimmed)) {
    seconds = Number(trimmed)
  } else if (HTTP_DATE.test(trimmed)) {
    const at = Date.parse(trimmed)
    if (Number.isNaN(at)) return undefined
    seconds = Math.max(0, Math.ceil((at - now) / 1000))
  } else {
    return undefined
  }
  return Math.min(seconds, MAX_RETRY_AFTER_SECONDS)
}
