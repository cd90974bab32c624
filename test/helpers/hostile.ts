import fc from 'fast-check'

/**
 * Input an attacker or a broken client sends: the characters parsers, normalisers, header
 * writers and mail headers disagree about. Shared by the fuzz tests.
 */

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i))

/** C0 and C1 controls, DEL, the soft hyphen, zero-width and bidi controls, word joiner, BOM. */
export const INVISIBLE = [
  ...range(0x00, 0x1f),
  '\u007f',
  ...range(0x80, 0x9f),
  '\u00ad',
  ...range(0x200b, 0x200f),
  ...range(0x202a, 0x202e),
  '\u2060',
  '\ufeff',
]

/** What an email address must never keep: controls, format characters (zero-width, bidi, soft
 * hyphen), private use, unassigned and surrogate code points. */
export const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}]/u

/** A marker no page may print unescaped: it would be markup the attacker wrote. */
export const TAG = '<x-fuzz>'

const EMOJI = ['😀', '👍🏽', '👩‍👩‍👧', '🇫🇷', '❤️', '\u{1f9ea}']
const LATIN = ['ü', 'é', 'ß', 'ø', 'Å', 'e\u0301', 'A\u030a', 'ﬁ', 'İ', 'ſ', '\ufffd']
const SPECIAL = [...'<>"\'&%/\\?#@:;=+,. ', TAG, '%00', '%2F', '%E6%97', '../', '//', '\r\n']

const code = (from: number, to: number) =>
  fc.integer({ min: from, max: to }).map((c) => String.fromCharCode(c))

/** One unit of hostile text: mostly ordinary, often invisible, sometimes from far away. */
export const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: code(0x20, 0x7e) },
  { weight: 4, arbitrary: fc.constantFrom(...INVISIBLE) },
  // A lone surrogate: not a character at all; UTF-8 cannot encode it.
  { weight: 1, arbitrary: code(0xd800, 0xdfff) },
  { weight: 1, arbitrary: fc.constantFrom(...EMOJI) },
  // CJK, Hangul, Hebrew and Arabic (right to left).
  { weight: 1, arbitrary: code(0x4e00, 0x9fff) },
  { weight: 1, arbitrary: code(0xac00, 0xd7a3) },
  { weight: 1, arbitrary: code(0x05d0, 0x05ea) },
  { weight: 1, arbitrary: code(0x0627, 0x064a) },
  { weight: 1, arbitrary: fc.constantFrom(...LATIN) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
)

/** Short hostile text, or (rarely) a very long one: past field limits, past the body limit. */
export const hostileString = (maxLength = 24): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.string({ unit: hostileUnit, maxLength }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.string({ unit: hostileUnit, minLength: 1, maxLength: 8 }), fc.nat(20_000))
        .map(([s, n]) => s.repeat(Math.ceil((n + 1) / s.length)).slice(0, n + 1)),
    },
  )

/** `base` with hostile text put in at one place: near misses of a valid value. */
export const spliced = (base: string, insert = hostileString(4)): fc.Arbitrary<string> =>
  fc
    .tuple(fc.nat({ max: base.length }), insert)
    .map(([i, s]) => `${base.slice(0, i)}${s}${base.slice(i)}`)

/** Addresses that look valid, with invisible, foreign or look-alike characters inside. */
export const hostileEmail: fc.Arbitrary<string> = fc.oneof(
  fc.emailAddress().chain((e) => spliced(e, fc.constantFrom(...INVISIBLE))),
  fc.emailAddress().chain((e) => spliced(e)),
  fc.constantFrom(
    'a\u200bb@example.com',
    'admin\u202e@example.com',
    'j\u200cdoe@example.com',
    'j\u200ddoe@example.com',
    'jo\u2060e@example.com',
    'jo\u00ade@example.com',
    '\ufeffbob@example.com',
    'b\u00f6b@example.com',
    'bo\u0308b@example.com',
    'bob@exa\u200bmple.com',
    'bob@\u65e5\u672c.jp',
    '\u05e9\u05dc\u05d5\u05dd@example.com',
    'bob\ud800@example.com',
    'bob@example.com\r\nBcc: victim@example.com',
    'bob@example.com\u0000',
    '\u{1f600}@example.com',
  ),
  hostileString(40),
)

/** Characters a path may carry past a check for controls and spaces: ASCII, and beyond it. */
const pathUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(..."abcXYZ019-._~!$&'()*+,;=:@/%?#") },
  { weight: 1, arbitrary: fc.constantFrom(...INVISIBLE.filter((c) => /\p{Cf}/u.test(c))) },
  { weight: 1, arbitrary: code(0xd800, 0xdfff) },
  { weight: 1, arbitrary: fc.constantFrom(...EMOJI, ...LATIN) },
  { weight: 1, arbitrary: code(0x4e00, 0x9fff) },
  { weight: 1, arbitrary: code(0x05d0, 0x05ea) },
  { weight: 1, arbitrary: fc.constantFrom('../', './', '//', '%2e%2e/', '%2F') },
)

/** Redirect targets that are, or almost are, paths on this site. */
export const hostilePath: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: pathUnit, minLength: 1, maxLength: 16 }).map((s) => `/${s}`),
  fc.constantFrom(
    '/\u65e5\u672c',
    '/\u00fcber',
    '/caf\u00e9?x=\u00fc#\u00e9',
    '/..//evil.example',
    '/.//evil.example',
    '/./..//evil.example/x',
    '/%2e%2e//evil.example',
    '/%2F%2Fevil.example',
    '/\u200b/evil.example',
    '/\u202eevil',
    '/a\ud800b',
    '/\u{1f600}',
    '//evil.example',
    '/\\evil.example',
    '/\tevil',
    'javascript:alert(1)',
    'https://app.example.test/\u00fc',
    'https://app.example.test/..//evil.example',
    'https://app.example.test@evil.example/',
    'https://APP.example.test/x',
    '/after',
  ),
  hostileString().map((s) => `/${s}`),
  fc.webPath().chain((p) => spliced(p.startsWith('/') ? p : `/${p}`)),
  hostileString(),
)

/**
 * Text as it reaches a Node server in a header: Node reads header bytes as latin1, and refuses
 * (before any application code) controls other than tab, so a UTF-8 value arrives as its bytes.
 * What Node refuses is sent over a real socket instead (test/http/fuzz-socket.test.ts).
 */
export const asHeaderValue = (s: string): string =>
  Buffer.from(s, 'utf8')
    .toString('latin1')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
    .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '')
    .replace(/^[\t ]+|[\t ]+$/g, '')

/**
 * Percent-encodings of hostile text for a URL, as different clients produce them: UTF-8 (a lone
 * surrogate as the bytes of its code point, which are not UTF-8), latin1 bytes, raw characters
 * (light-my-request serialises them as a browser would), or an escape cut short.
 */
export const urlEncoded = (s: string): fc.Arbitrary<string> =>
  fc.constantFrom('utf8', 'latin1', 'raw', 'broken').map((how) => {
    if (how === 'raw') return s.replace(/[#&]/g, encodeURIComponent)
    const bytes = (c: string) => {
      const point = c.codePointAt(0) ?? 0
      if (how === 'latin1' && point <= 0xff) return [point]
      if (point >= 0xd800 && point <= 0xdfff) {
        return [0xe0 | (point >> 12), 0x80 | ((point >> 6) & 0x3f), 0x80 | (point & 0x3f)]
      }
      return [...Buffer.from(c, 'utf8')]
    }
    const encoded = [...s]
      .map((c) =>
        /^[A-Za-z0-9._~/-]$/.test(c)
          ? c
          : bytes(c)
              .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
              .join(''),
      )
      .join('')
    return how === 'broken' ? `${encoded}%E6%9` : encoded
  })

/** `?name=value&…` with hostile values, encoded in one of the ways above. */
export const hostileQuery = (
  names: readonly string[],
  value: fc.Arbitrary<string> = hostileString(),
): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(fc.constantFrom(...names), value.chain(urlEncoded)).map(([n, v]) => `${n}=${v}`),
      { maxLength: 3 },
    )
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.join('&')}`))

/** A form body (application/x-www-form-urlencoded) from fields, some repeated. */
export const formBody = (fields: Record<string, string | undefined>): fc.Arbitrary<string> =>
  fc
    .tuple(
      ...Object.entries(fields)
        .filter((e): e is [string, string] => e[1] !== undefined)
        .map(([name, value]) =>
          fc.tuple(fc.constantFrom('utf8', 'latin1', 'raw'), fc.boolean()).map(([how, twice]) => {
            const one = `${encodeURIComponent(name)}=${formValue(value, how)}`
            return twice ? `${one}&${one}` : one
          }),
        ),
    )
    .map((parts) => parts.join('&'))

function formValue(value: string, how: string): string {
  if (how === 'raw') return value.replace(/[&=+%]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)
  return [...value]
    .map((c) => {
      if (/^[A-Za-z0-9._~-]$/.test(c)) return c
      const point = c.codePointAt(0) ?? 0
      const bytes =
        how === 'latin1' && point <= 0xff
          ? [point]
          : point >= 0xd800 && point <= 0xdfff
            ? [0xef, 0xbf, 0xbd]
            : [...Buffer.from(c, 'utf8')]
      return bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')
    })
    .join('')
}

/**
 * The headers the service reads, and a few it must not trip over, each present or not, with
 * plausible values most of the time and hostile ones otherwise.
 */
export const hostileHeaders = (plausible: Record<string, fc.Arbitrary<string>> = {}) => {
  const header = (name: string, ...usual: string[]) =>
    fc.oneof(
      { weight: 3, arbitrary: plausible[name] ?? fc.constantFrom(...usual) },
      { weight: 2, arbitrary: hostileString(40).map(asHeaderValue) },
      ...(usual.length > 0
        ? [{ weight: 1, arbitrary: fc.constantFrom(...usual).chain((u) => spliced(u)) }]
        : []),
    )
  return fc.record(
    {
      authorization: header('authorization', 'Bearer x', 'Basic Zm9vOmJhcg=='),
      cookie: header('cookie', '__Host-latchkey-csrf=x', 'a=b; a=c', '__Host-latchkey-bind=..'),
      origin: header('origin', 'https://login.example.test', 'null', 'https://evil.example'),
      'sec-fetch-site': header('sec-fetch-site', 'same-origin', 'same-site', 'cross-site', 'none'),
      'accept-language': header('accept-language', 'fr-CH, fr;q=0.9, en;q=0.8', 'he', '*'),
      'x-request-id': header(
        'x-request-id',
        'f1d2c3b4-0000-4000-8000-000000000001',
        'req-42',
        'x'.repeat(300),
      ),
      'x-forwarded-for': header('x-forwarded-for', '203.0.113.9', '203.0.113.9, ::1', 'unknown'),
      'x-forwarded-host': header('x-forwarded-host', 'evil.example'),
      host: header('host', 'login.example.test', 'evil.example'),
      accept: header('accept', 'text/html', 'application/json', '*/*'),
      'user-agent': header('user-agent', 'Mozilla/5.0'),
      'if-none-match': header('if-none-match', '*', '"x"'),
    },
    { requiredKeys: [] },
  )
}

/** Content types a client may claim; the service must answer every one in its own format. */
export const hostileContentType = (usual: string): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(usual) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=latin1',
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded; charset=iso-8859-1',
        'APPLICATION/X-WWW-FORM-URLENCODED',
        'multipart/form-data; boundary=x',
        'text/plain',
        'text/html',
        'application/octet-stream',
      ),
    },
    { weight: 1, arbitrary: hostileString(30).map(asHeaderValue) },
  )
