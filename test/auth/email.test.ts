import fc from 'fast-check'
import t from 'tap'
import { MAX_EMAIL_LENGTH, normaliseEmail } from '../../src/auth/email.js'
import { InvalidRequest } from '../../src/errors.js'

/** Normalises, or returns the error it threw. */
function attempt(input: string): string | Error {
  try {
    return normaliseEmail(input)
  } catch (error) {
    return error as Error
  }
}

t.test('trims, and lower-cases the domain only', async (t) => {
  t.equal(normaliseEmail('ada@example.com'), 'ada@example.com')
  t.equal(normaliseEmail('  Ada.Lovelace@Example.COM  '), 'Ada.Lovelace@example.com')
  t.equal(normaliseEmail('\tADA+tag@MAIL.Example.Org '), 'ADA+tag@mail.example.org')
  t.equal(
    normaliseEmail("o'brien!#$%&*/=?^_`{|}~-@example.com"),
    "o'brien!#$%&*/=?^_`{|}~-@example.com",
  )
})

t.test('an IDN domain becomes punycode; the local part is kept as typed', async (t) => {
  t.equal(normaliseEmail('jörg@Bücher.de'), 'jörg@xn--bcher-kva.de')
  t.equal(normaliseEmail('user@例え.jp'), 'user@xn--r8jz45g.jp')
  t.equal(normaliseEmail('user@xn--bcher-kva.de'), 'user@xn--bcher-kva.de', 'punycode stays')
})

t.test('CR, LF, NUL and other control characters are refused anywhere', async (t) => {
  const controls = [
    '\r',
    '\n',
    '\r\n',
    '\0',
    '\t',
    '\x0b',
    '\x0c',
    '\x1b',
    '\x7f',
    '\x85',
    '\u2028',
  ]
  for (const c of controls) {
    // Named by code point: a raw U+2028 in an assertion name would split the TAP line.
    const shown = `U+${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`
    t.throws(
      () => normaliseEmail(`a${c}b@example.com`),
      InvalidRequest,
      `${shown} in the local part`,
    )
    t.throws(() => normaliseEmail(`ab@exa${c}mple.com`), InvalidRequest, `${shown} in the domain`)
    t.throws(() => normaliseEmail(`ab@example.com${c}x`), InvalidRequest, `${shown} after the TLD`)
    t.throws(() => normaliseEmail(`ab${c}@example.com`), InvalidRequest, `${shown} before the @`)
    t.throws(() => normaliseEmail(`ab@${c}example.com`), InvalidRequest, `${shown} after the @`)
  }
  t.throws(
    () => normaliseEmail('victim@example.com\r\nBcc: everyone@evil.example'),
    InvalidRequest,
    'header injection',
  )
  // Surrounding whitespace is trimmed away, CR and LF included: what is left has none.
  for (const edge of ['\r\nada@example.com', 'ada@example.com\r\n', '\nada@example.com\n']) {
    const out = attempt(edge)
    t.ok(out instanceof InvalidRequest || out === 'ada@example.com', JSON.stringify(edge))
  }
  t.throws(() => normaliseEmail('\0ada@example.com'), InvalidRequest, 'NUL is not trimmed')
  t.throws(() => normaliseEmail('ada@example.com\0'), InvalidRequest, 'NUL is not trimmed')
})

t.test('length is bounded at 254 bytes', async (t) => {
  const local = 'a'.repeat(64)
  const domain = `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`
  const longest = `${local}@${domain}`
  t.equal(longest.length, MAX_EMAIL_LENGTH)
  t.equal(normaliseEmail(longest), longest)
  t.throws(() => normaliseEmail(`${local}@e${domain}`), InvalidRequest, '255 characters')
  t.throws(() => normaliseEmail(`${'a'.repeat(300)}@example.com`), InvalidRequest, '300 characters')
  t.throws(() => normaliseEmail(`${'a'.repeat(65)}@example.com`), InvalidRequest, 'local part > 64')
  // Punycode is longer than what was typed: the limit holds after encoding too.
  const idn = `${'a'.repeat(64)}@${Array(6).fill('例えば日本語のドメイン名').join('.')}.jp`
  t.ok(idn.length <= MAX_EMAIL_LENGTH, 'short as typed')
  t.throws(() => normaliseEmail(idn), InvalidRequest, 'too long in UTF-8')
  const mixed = `${'a'.repeat(64)}@${Array(15).fill('ßü例').join('.')}.com`
  t.ok(Buffer.byteLength(mixed) <= MAX_EMAIL_LENGTH, 'short in UTF-8 as typed')
  t.throws(() => normaliseEmail(mixed), InvalidRequest, 'too long once punycode-encoded')
  // Counted in UTF-8 bytes, as mail servers count: 64 characters of 2 bytes are 128.
  t.equal(normaliseEmail(`${'ü'.repeat(32)}@example.com`), `${'ü'.repeat(32)}@example.com`)
  t.throws(() => normaliseEmail(`${'ü'.repeat(33)}@example.com`), InvalidRequest, '66 bytes')
  t.throws(
    () => normaliseEmail(`${' '.repeat(2000)}ada@example.com`),
    InvalidRequest,
    'over-long input is refused before it is trimmed',
  )
})

/** Invisible, reordering and unassigned characters: each one of the issue's, and a few more. */
const INVISIBLE = [
  '\u200b', // zero width space
  '\u200c', // zero width non-joiner
  '\u200d', // zero width joiner
  '\u200e', // left-to-right mark
  '\u202e', // right-to-left override
  '\u2066', // left-to-right isolate
  '\u2060', // word joiner
  '\u00ad', // soft hyphen
  '\ufeff', // zero width no-break space (BOM)
  '\u3164', // Hangul filler: a letter, drawn as nothing
  '\ufe0f', // variation selector 16
  '\ue000', // private use
  '\u{f0000}', // supplementary private use
  '\u0378', // unassigned
  '\ud800', // a lone surrogate
  '\u{e0041}', // tag latin capital letter A
]

const codePoint = (c: string) => `U+${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`

t.test('invisible, bidi, private-use and unassigned characters are refused anywhere', async (t) => {
  for (const c of INVISIBLE) {
    const shown = codePoint(c)
    const places: [string, string][] = [
      ['inside the local part', `a${c}b@example.com`],
      ['before the @', `ab${c}@example.com`],
      ['inside the domain', `ab@exa${c}mple.com`],
      ['after the @', `ab@${c}example.com`],
    ]
    for (const [where, email] of places) {
      // Named by code point: the raw character would garble the test's name.
      t.throws(() => normaliseEmail(email), InvalidRequest, `${shown} ${where}`)
    }
    // At either end: refused, or trimmed away with the whitespace (U+FEFF is whitespace to
    // String.prototype.trim). Either way nothing invisible is left in an address.
    for (const edge of [`${c}ab@example.com`, `ab@example.com${c}`]) {
      const out = attempt(edge)
      t.ok(out instanceof InvalidRequest || out === 'ab@example.com', `${shown} at an end`)
    }
  }
  t.throws(() => normaliseEmail('admin\u202egro.elpmaxe@example.com'), InvalidRequest, 'spoofing')
})

t.test('NFC first: composed and decomposed spellings are one address', async (t) => {
  const composed = 'j\u00f6rg@example.com'
  const decomposed = 'jo\u0308rg@example.com'
  t.not(composed, decomposed)
  t.equal(normaliseEmail(decomposed), composed)
  t.equal(normaliseEmail(composed), composed)
  t.equal(normaliseEmail('ada@bu\u0308cher.de'), 'ada@xn--bcher-kva.de', 'in the domain too')
})

t.test('malformed addresses are refused', async (t) => {
  for (const bad of [
    '',
    '   ',
    'ada',
    'ada.example.com',
    '@example.com',
    'ada@',
    '@',
    'ada@@example.com',
    'ada@b@example.com',
    'a..b@example.com',
    '.ada@example.com',
    'ada.@example.com',
    'ada@example..com',
    'ada@.example.com',
    'ada@example.com.',
    'ada@-example.com',
    'ada@example-.com',
    'a b@example.com',
    'ada@exa mple.com',
    'ada @example.com',
    'ada@ example.com',
    '"ada"@example.com',
    'ada<x>@example.com',
    'ada,bob@example.com',
    'ada;bob@example.com',
    'ada:bob@example.com',
    'ada\\x@example.com',
    'ada@[127.0.0.1]',
    'ada@exa_mple.com',
    'ada@example.c',
  ]) {
    t.throws(() => normaliseEmail(bad), InvalidRequest, JSON.stringify(bad))
  }
})

// Every unit fast-check offers, plus the characters that matter most here.
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({
    unit: fc.constantFrom(
      'a',
      'Z',
      '.',
      '@',
      ' ',
      '\r',
      '\n',
      '\0',
      '\t',
      'ü',
      'x',
      '-',
      'ß',
      '。',
    ),
    maxLength: 40,
  }),
  fc.emailAddress(),
)

t.test(
  'property: any string gives a string or an InvalidRequest, never another error',
  async (t) => {
    fc.assert(
      fc.property(anyString, (input) => {
        const out = attempt(input)
        return typeof out === 'string' || out instanceof InvalidRequest
      }),
    )
    t.pass('no other error')
  },
)

t.test('property: normalising twice is the same as once', async (t) => {
  fc.assert(
    fc.property(anyString, (input) => {
      const once = attempt(input)
      return typeof once !== 'string' || normaliseEmail(once) === once
    }),
  )
  t.pass('idempotent')
})

/** What no output may hold (the categories DESIGN requirement 16 names). */
const FORBIDDEN_OUT = /[\r\n\s\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}]/u

t.test(
  'property: the output is NFC, bounded, and never holds a control or invisible character',
  async (t) => {
    fc.assert(
      fc.property(anyString, (input) => {
        const out = attempt(input)
        return (
          typeof out !== 'string' ||
          (!FORBIDDEN_OUT.test(out) &&
            Buffer.byteLength(out) <= MAX_EMAIL_LENGTH &&
            out === out.normalize('NFC') &&
            out.includes('@'))
        )
      }),
    )
    t.pass('no control characters out')
  },
)

t.test('property: ordinary addresses pass through unchanged', async (t) => {
  fc.assert(fc.property(fc.emailAddress(), (email) => normaliseEmail(email) === email))
  t.pass('accepted as given')
})

t.test('property: a control or invisible character inside an address is refused', async (t) => {
  fc.assert(
    fc.property(
      fc.emailAddress(),
      fc.nat(),
      fc.constantFrom('\r', '\n', '\0', '\t', '\x7f', '\x1b', '\x85', ...INVISIBLE),
      (email, at, c) => {
        // Strictly inside: the surrounding whitespace is trimmed, as the form field would be.
        const i = 1 + (at % (email.length - 1))
        return attempt(email.slice(0, i) + c + email.slice(i)) instanceof InvalidRequest
      },
    ),
  )
  t.pass('refused')
})

/** A character a forbidden-character check must catch: drawn from the whole code space. */
const forbiddenChar = fc
  .integer({ min: 0, max: 0x10ffff })
  .map((n) => String.fromCodePoint(n))
  .filter((c) => FORBIDDEN_OUT.test(c))

t.test('property: any Cc, Cf, Co, Cn, Cs or space character anywhere is refused', async (t) => {
  fc.assert(
    fc.property(fc.emailAddress(), fc.nat(), forbiddenChar, (email, at, c) => {
      const i = 1 + (at % (email.length - 1))
      return attempt(email.slice(0, i) + c + email.slice(i)) instanceof InvalidRequest
    }),
  )
  t.pass('refused')
})

t.test('property: canonically equivalent spellings normalise alike', async (t) => {
  const local = fc.string({
    unit: fc.constantFrom('a', 'o', 'u', '\u00f6', '\u00fc', '\u0308', '\u0301', '\u00e9', 'e'),
    minLength: 1,
    maxLength: 20,
  })
  fc.assert(
    fc.property(local, (name) => {
      const nfc = attempt(`x${name.normalize('NFC')}@example.com`)
      const nfd = attempt(`x${name.normalize('NFD')}@example.com`)
      return typeof nfc === 'string' ? nfc === nfd : typeof nfd !== 'string'
    }),
  )
  t.pass('one address')
})
