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

t.test('paths on this site are accepted and returned unchanged', async (t) => {
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
    '/ü/ñ',
  ]) {
    t.equal(checkRedirect(target, ALLOWED), target, target)
    t.equal(new URL(target, SELF).origin, SELF, `${target} stays on ${SELF}`)
  }
})

t.test('URLs on an exactly listed origin are accepted and returned unchanged', async (t) => {
  for (const target of [
    'https://app.example',
    'https://app.example/',
    'https://app.example/after/login?x=1#y',
    'http://localhost:5173/callback',
  ]) {
    t.equal(checkRedirect(target, ALLOWED), target, target)
  }
})

t.test('ways off-site are refused', async (t) => {
  for (const target of [
    '//evil.example',
    '///evil.example',
    '//evil.example/a',
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
})

/** The open-redirect invariant, checked from a base path as well as the root. */
function staysSafe(target: string): boolean {
  let result: string
  try {
    result = checkRedirect(target, ALLOWED)
  } catch (error) {
    return error instanceof InvalidRequest
  }
  if (result !== target) return false
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

t.test('property: any path from the root that is not protocol-relative is accepted', async (t) => {
  fc.assert(
    fc.property(fc.webPath(), (p) => {
      const target = `/${p.replace(/^\/+/, '')}`
      return checkRedirect(target, ALLOWED) === target
    }),
  )
  t.pass('paths accepted')
})
