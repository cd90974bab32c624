/**
 * The family of a user agent, for scanner telemetry (link.viewed, latchkey_link_views_total):
 * one of a few fixed words, so neither an audit detail nor a metric label ever carries the
 * string itself (a user agent can be long, odd and, through extensions, close to unique).
 */
export const UA_FAMILIES = [
  'none',
  'scanner',
  'chrome',
  'firefox',
  'safari',
  'edge',
  'other',
] as const

export type UaFamily = (typeof UA_FAMILIES)[number]

/**
 * What fetches links without a person: crawlers and link previewers, the link checks of mail
 * security products (they open every link of an incoming email, often within seconds, some in
 * a headless browser with an ordinary-looking user agent, which no list can tell apart), and
 * HTTP libraries. Matched case-insensitively anywhere in the string.
 */
const SCANNER =
  /bot\b|bot\/|crawl|spider|slurp|preview|scan|check|fetch|monitor|validator|barracuda|proofpoint|mimecast|safelinks|office365|microsoft office|ms-office|forcepoint|trendmicro|trend micro|symantec|sophos|fortiguard|zscaler|ironport|cisco|messagelabs|google-safety|googleother|google-read-aloud|facebookexternalhit|facebot|slackbot|slack-imgproxy|discordbot|telegrambot|whatsapp|skypeuripreview|linkedinbot|twitterbot|applebot|bingpreview|curl\/|wget\/|python-requests|python-urllib|aiohttp|httpx|go-http-client|okhttp|java\/|apache-httpclient|libwww-perl|node-fetch|axios|undici|headlesschrome|phantomjs|puppeteer|playwright|lighthouse/i

/**
 * One family per user agent. Scanners first (a headless Chrome names Chrome too); then browsers
 * by the token that only they send, most specific first: Edge and Opera-like browsers say Chrome
 * and Safari as well, Chrome says Safari, and every iOS browser is Safari underneath
 * (CriOS, FxiOS, EdgiOS name theirs).
 */
export function uaFamily(userAgent: string | undefined): UaFamily {
  const ua = userAgent?.trim() ?? ''
  if (ua === '') return 'none'
  if (SCANNER.test(ua)) return 'scanner'
  if (/\bEdg(e|A|iOS)?\//.test(ua)) return 'edge'
  if (/\b(Firefox|FxiOS)\//.test(ua)) return 'firefox'
  if (/\bOPR\/|\bOpera\b|\bSamsungBrowser\//.test(ua)) return 'other'
  if (/\b(Chrome|CriOS|Chromium)\//.test(ua)) return 'chrome'
  if (/\bSafari\//.test(ua) && /\bVersion\//.test(ua)) return 'safari'
  if (/\bAppleWebKit\//.test(ua) && /\b(iPhone|iPad|Macintosh)\b/.test(ua)) return 'safari'
  return 'other'
}
