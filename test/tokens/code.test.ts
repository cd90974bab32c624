import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import {
  CODE_ALPHABET,
  CODE_LENGTH,
  deriveCode,
  groupCode,
  normaliseCode,
  sameCode,
} from '../../src/tokens/code.js'
import { KeyRing } from '../../src/tokens/keyring.js'

// Sign-in codes (DESIGN requirement 18): 40 bits of an HMAC in Crockford's base32, derived from
// the link's fields, read back however a person types them.

const key = Buffer.alloc(32, 7)
const fields = {
  userId: '01890a5d-ac96-774b-bcce-b302099a8057',
  expiresAt: 1_800_000_000,
  rev: 3,
  seq: 41,
}

t.test('the alphabet: 32 symbols, no I, L, O or U', async (t) => {
  t.equal(CODE_ALPHABET.length, 32)
  t.equal(new Set(CODE_ALPHABET).size, 32)
  t.notMatch(CODE_ALPHABET, /[ILOU]/)
})

t.test(
  'a code is the first 40 bits of HMAC-SHA256(key, id ‖ expires_at ‖ rev ‖ seq)',
  async (t) => {
    const input = Buffer.concat([
      Buffer.from(fields.userId.replaceAll('-', ''), 'hex'),
      Buffer.from('000000006b49d200', 'hex'),
      Buffer.from('00000003', 'hex'),
      Buffer.from('00000029', 'hex'),
    ])
    const mac = createHmac('sha256', key).update(input).digest()
    const bits = mac.subarray(0, 5).reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n)
    let expected = ''
    for (let i = 7; i >= 0; i--) expected += CODE_ALPHABET[Number((bits >> BigInt(5 * i)) & 31n)]
    t.equal(deriveCode(key, fields), expected)
    t.equal(deriveCode(key, fields).length, CODE_LENGTH)
  },
)

t.test('every field and the key change the code', async (t) => {
  const code = deriveCode(key, fields)
  t.not(deriveCode(key, { ...fields, seq: 42 }), code, 'seq')
  t.not(deriveCode(key, { ...fields, rev: 4 }), code, 'rev')
  t.not(deriveCode(key, { ...fields, expiresAt: fields.expiresAt + 1 }), code, 'expires_at')
  t.not(
    deriveCode(key, { ...fields, userId: '01890a5d-ac96-774b-bcce-b302099a8058' }),
    code,
    'user',
  )
  t.not(deriveCode(Buffer.alloc(32, 8), fields), code, 'key')
})

t.test('the key ring: one code key per secret, its own label, the signing one first', async (t) => {
  const a = Buffer.alloc(32, 1)
  const b = Buffer.alloc(32, 2)
  const ring = new KeyRing([
    { kid: 2, secret: b },
    { kid: 1, secret: a },
  ])
  t.equal(ring.codeKeys.length, 2)
  t.same(ring.codeKeys[1], new KeyRing([{ kid: 1, secret: a }]).codeKeys[0], 'per secret')
  t.notSame(ring.codeKeys[0], ring.codeKeys[1])
  t.notSame(ring.codeKeys[0], ring.pseudonymKey, 'not the pseudonym key')
  t.notSame(ring.codeKeys[0], ring.cookieKey, 'not the cookie key')
})

t.test('grouped for reading: XXXX-XXXX', async (t) => {
  t.equal(groupCode('K7QM4TZP'), 'K7QM-4TZP')
})

t.test('normalisation: case, spaces, hyphens, and O, I, L as digits', async (t) => {
  t.equal(normaliseCode('K7QM-4TZP'), 'K7QM4TZP')
  t.equal(normaliseCode(' k7qm 4tzp '), 'K7QM4TZP')
  t.equal(normaliseCode('k7-qm-4t-zp'), 'K7QM4TZP')
  t.equal(normaliseCode('O1IL-ABCD'), '0111ABCD')
  t.equal(normaliseCode('o1il abcd'), '0111ABCD')
  for (const bad of [
    '',
    'K7QM-4TZ',
    'K7QM-4TZPX',
    'K7QM-4TZU',
    'K7QM_4TZP',
    'K7QM-4TZ!',
    'К7QM-4TZP',
  ]) {
    t.equal(normaliseCode(bad), undefined, `refused: ${JSON.stringify(bad)}`)
  }
  t.equal(normaliseCode(`K7QM-4TZP${' '.repeat(60)}`), undefined, 'absurdly long: refused')
})

t.test('property: every derived code reads back as itself, however it is typed', async (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      fc.boolean(),
      (bytes, expiresAt, rev, seq, lower) => {
        const code = deriveCode(Buffer.from(bytes), { ...fields, expiresAt, rev, seq })
        if (!new RegExp(`^[${CODE_ALPHABET}]{8}$`).test(code)) return false
        const typed = lower ? groupCode(code).toLowerCase() : groupCode(code)
        return normaliseCode(typed) === code
      },
    ),
  )
  t.pass('held')
})

t.test('property: normaliseCode never throws, and yields a code or nothing', async (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (input) => {
      const code = normaliseCode(input)
      return code === undefined || new RegExp(`^[${CODE_ALPHABET}]{8}$`).test(code)
    }),
  )
  t.pass('held')
})

t.test('sameCode: equal codes only, any lengths', async (t) => {
  t.ok(sameCode('K7QM4TZP', 'K7QM4TZP'))
  t.notOk(sameCode('K7QM4TZP', 'K7QM4TZQ'))
  t.notOk(sameCode('K7QM4TZP', 'K7QM4TZ'))
})
