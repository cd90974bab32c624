import fc from 'fast-check'
import t from 'tap'
import { checkRedirect, MAX_REDIRECT_LENGTH } from '../../src/auth/redirect.js'
import { InvalidRequest } from '../../src/errors.js'

const ALLOWED = ['https://app.example', 'http://localhost:5173']
const SELF = 'https://login.example'

/** A test name with every non-printable-ASCII character escaped, so the TAP output stays intact. */
const show = (s: string): string =>
  JSON.stringify(s).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )

t.test('paths on this site in their canonical spelling are returned unchanged', async (t) => {
  for (const target of [
    '/',
    '/a/b?x=1#y',
    '/dashboard',
    '/a/b/',
    '/?next=https://evil.example',
    '/#//evil.example',
    '/a@evil.example',
    '/a:b',
    '/%2F%2Fevil.example',
    '/a%20b',
    // A percent-escape stays an escape in a path: browsers do not decode %09 back into a tab
    // before resolving, so this is the path "/%09/evil.example" on this site, not a way off it.
    '/%09/evil.example',
    '/%5Cevil.example',
    '/%C3%BC/%C3%B1',
  ]) {
    t.equal(checkRedirect(target, ALLOWED), target, target)
    t.equal(new URL(target, SELF).origin, SELF, `${target} stays on ${SELF}`)
  }
})

t.test('URLs on an exactly listed origin in their canonical spelling are unchanged', async (t) => {
  for (const target of [
    'https://app.example/',
    'https://app.example/after/login?x=1#y',
    'http://localhost:5173/callback',
  ]) {
    t.equal(checkRedirect(target, ALLOWED), target, target)
  }
})

t.test('a target comes back in its one ASCII spelling', async (t) => {
  const IDN = ['https://xn--wgv71a.example']
  for (const [target, canonical, allowed = ALLOWED] of [
    ['/über', '/%C3%BCber'],
    ['/日本', '/%E6%97%A5%E6%9C%AC'],
    ['/%E6%97%A5%E6%9C%AC', '/%E6%97%A5%E6%9C%AC'],
    ['/%e6%97%a5%e6%9C%Ac', '/%E6%97%A5%E6%9C%AC'],
    ['/日本?q=日本#日本', '/%E6%97%A5%E6%9C%AC?q=%E6%97%A5%E6%9C%AC#%E6%97%A5%E6%9C%AC'],
    ['/😀', '/%F0%9F%98%80'],
    ['/a/../b', '/b'],
    ['/a/./b/.', '/a/b/'],
    ['/..', '/'],
    ['/%2e%2e/a', '/a'],
    ["/a?x='", '/a?x=%27'],
    ['/a"b<c>', '/a%22b%3Cc%3E'],
    ['/100%', '/100%'],
    ['https://app.example', 'https://app.example/'],
    ['HTTPS://APP.EXAMPLE/X', 'https://app.example/X'],
    ['https://app.example:443/x', 'https://app.example/x'],
    ['https://app.example/ü?ä#ö', 'https://app.example/%C3%BC?%C3%A4#%C3%B6'],
    ['https://日本.example/ü', 'https://xn--wgv71a.example/%C3%BC', IDN],
    ['https://xn--wgv71a.example/ü', 'https://xn--wgv71a.example/%C3%BC', IDN],
  ] as [string, string, string[]?][]) {
    const result = checkRedirect(target, allowed)
    t.equal(result, canonical, show(target))
    t.match(result, /^[\x21-\x7e]+$/, `${show(target)}: printable ASCII`)
    t.equal(checkRedirect(result, allowed), result, `${show(target)}: canonical is a fixed point`)
  }
})

t.test('ways off-site are refused', async (t) => {
  for (const target of [
    '//evil.example',
    '///evil.example',
    '//evil.example/a',
    // Dot segments resolve into a protocol-relative path: another host to a browser.
    '/..//evil.example',
    '/.//evil.example',
    '/a/..//evil.example',
    '/a/b/../..//evil.example',
    '/%2e%2e//evil.example',
    '/%2E//evil.example',
    '/.%2e/.//evil.example',
    '/..//evil.example/?a#b',
    '/\\evil.example',
    '\\\\evil.example',
    '\\/evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r/evil.example',
    'https:evil.example',
    'https:app.example',
    'https:/app.example',
    'http:evil.example',
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'javascript://app.example/%0aalert(1)',
    'data:text/html,x',
    'vbscript:msgbox(1)',
    'ftp://app.example/',
    'blob:https://app.example/1',
    'https://user:pw@app.example',
    'https://user@app.example/',
    'https://app.example@evil.example',
    'https://app.example:@evil.example',
    // Empty userinfo disappears when parsed; it is still a trick, never a target.
    'https://:@app.example/',
    'https://@app.example/',
    'https://app.example@app.example/',
    'https://app.example%40evil.example@evil.example',
    'https://evil.example',
    'https://evil.example/https://app.example',
    'https://app.example.evil.example',
    'https://evilapp.example',
    'https://app.example:8443/',
    'http://app.example/',
    'https://localhost:5173/',
    'http://localhost:5174/',
    'evil.example',
    'evil.example/path',
    'dashboard',
  ]) {
    t.throws(() => checkRedirect(target, ALLOWED), InvalidRequest, show(target))
  }
})

t.test('an origin must be listed: nothing off-site is allowed by default', async (t) => {
  t.throws(() => checkRedirect('https://app.example/', []), InvalidRequest)
  t.equal(checkRedirect('/home', []), '/home')
})

t.test('tabs, newlines, spaces, backslashes and controls are refused anywhere', async (t) => {
  for (const c of [
    '\t',
    '\n',
    '\r',
    ' ',
    '\\',
    '\0',
    '\x7f',
    '\x1b',
    '\u00a0',
    '\u2028',
    '\ufeff',
    // Invisible and bidi formatting characters, and a lone surrogate (which parses as U+FFFD).
    '\u200b',
    '\u200c',
    '\u202e',
    '\u2060',
    '\u00ad',
    '\ud800',
    '\udfff',
  ]) {
    for (const target of [
      `${c}/a`,
      `/${c}a`,
      `/a${c}`,
      `/a?x=${c}`,
      `/a#${c}`,
      `https://app.example/${c}`,
      `https://app.example${c}/`,
      `${c}https://app.example/`,
      `https://app.example/${c}`,
    ]) {
      t.throws(
        () => checkRedirect(target, ALLOWED),
        InvalidRequest,
        `${show(c)} in ${show(target)}`,
      )
    }
  }
})

t.test('a protocol-relative target with no valid host is refused as bad input', async (t) => {
  // Resolving these against a base throws a TypeError: it must come out as InvalidRequest (a 400),
  // not as a programming error (a 500).
  for (const target of ['//', '///', '//:', '//%', '//[', '//[x]/a', '//a%00b']) {
    t.throws(() => checkRedirect(target, ALLOWED), InvalidRequest, show(target))
  }
})

t.test('empty and over-long targets are refused', async (t) => {
  t.throws(() => checkRedirect('', ALLOWED), InvalidRequest)
  const longest = `/${'a'.repeat(MAX_REDIRECT_LENGTH - 1)}`
  t.equal(MAX_REDIRECT_LENGTH, 2048)
  t.equal(checkRedirect(longest, ALLOWED), longest, '2048 characters')
  t.throws(() => checkRedirect(`${longest}a`, ALLOWED), InvalidRequest, '2049 characters')
  t.throws(() => checkRedirect(`https://app.example/${'a'.repeat(2100)}`, ALLOWED), InvalidRequest)
  // The bound is on what is bound and emitted: 700 characters that become 4200 when encoded.
  t.throws(() => checkRedirect(`/${'ü'.repeat(700)}`, ALLOWED), InvalidRequest, 'encoded: 4201')
})

/** The open-redirect invariant, checked from a base path as well as the root. */
function staysSafe(target: string): boolean {
  let result: string
  try {
    result = checkRedirect(target, ALLOWED)
  } catch (error) {
    return error instanceof InvalidRequest
  }
  // ASCII, fit for a Location header; a fixed point; never protocol-relative.
  if (!/^[\x21-\x7e]+$/.test(result) || result.startsWith('//')) return false
  if (checkRedirect(result, ALLOWED) !== result) return false
  for (const base of [SELF, `${SELF}/login/link?token=x`]) {
    const origin = new URL(result, base).origin
    if (origin !== SELF && !ALLOWED.includes(origin)) return false
  }
  return true
}

// Pieces that parsers have been made to disagree on, in any order.
const piece = fc.constantFrom(
  '/',
  '//',
  '\\',
  '.',
  '..',
  ':',
  '@',
  '?',
  '#',
  '%',
  '%2F',
  '%5C',
  '%09',
  '%0a',
  '\t',
  '\n',
  ' ',
  '\0',
  'https:',
  'http:',
  'HTTPS:',
  'javascript:',
  'data:',
  'https://',
  'app.example',
  'evil.example',
  'localhost',
  ':443',
  ':5173',
  ':8443',
  'user',
  'ａｐｐ.example',
  '。',
  'x',
  '%2e',
  '%2E%2e',
  '/..',
  '/.',
  '日本',
  'ü',
  '\u202e',
  '\ud800',
)

t.test('property: a result never leads off this site or the listed origins', async (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.string({ unit: piece, maxLength: 12 }),
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        fc.webPath().map((p) => `/${p}`),
      ),
      staysSafe,
    ),
    { numRuns: 5000 },
  )
  t.pass('open-redirect invariant held')
})

const upperEscapes = (s: string) => s.replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase())

t.test('property: a path from the root keeps its meaning, unless it leads off-site', async (t) => {
  fc.assert(
    fc.property(fc.webPath(), (p) => {
      const target = `/${p.replace(/^\/+/, '')}`
      const resolved = new URL(target, SELF)
      if (resolved.pathname.startsWith('//')) {
        return throwsInvalid(() => checkRedirect(target, ALLOWED))
      }
      const result = checkRedirect(target, ALLOWED)
      return new URL(result, SELF).href === upperEscapes(resolved.href)
    }),
  )
  t.pass('paths accepted, meaning kept')
})

t.test('property: a target and its percent-encoded spelling are one target', async (t) => {
  // Segments of letters and digits in any script: what a backend may pass raw or encoded.
  const segment = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 6 })
    .filter((s) => /^[\p{L}\p{N}]+$/u.test(s))
  const spellings = fc.array(segment, { minLength: 1, maxLength: 5 }).chain((segments) =>
    fc.tuple(
      fc.constant(`/${segments.join('/')}`),
      // encodeURIComponent writes upper-case escapes; some libraries write lower case.
      fc.boolean().map((lower) => {
        const encoded = `/${segments.map(encodeURIComponent).join('/')}`
        return lower ? encoded.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()) : encoded
      }),
    ),
  )
  fc.assert(
    fc.property(spellings, ([raw, encoded]) => {
      const canonical = checkRedirect(raw, ALLOWED)
      return checkRedirect(encoded, ALLOWED) === canonical && /^[\x21-\x7e]+$/.test(canonical)
    }),
  )
  t.pass('one target, however spelled')
})

function throwsInvalid(fn: () => unknown): boolean {
  try {
    fn()
    return false
  } catch (error) {
    return error instanceof InvalidRequest
  }
}
