import fc from 'fast-check'
import t from 'tap'
import { LatchkeyError, TokenInvalid } from '../../src/errors.js'
import {
  decodeToken,
  encodeBody,
  encodeContext,
  encodeToken,
  Flag,
  Purpose,
  TOKEN_CHARS,
  type TokenFields,
} from '../../src/tokens/codec.js'

const fields: TokenFields = {
  purpose: Purpose.Login,
  kid: 7,
  flags: Flag.OneTime,
  userId: '01890a5d-ac96-774b-bcce-b302099a8057',
  expiresAt: 1_800_000_000,
  rev: 3,
  seq: 41,
}

t.test('the 48-byte layout is exactly the one DESIGN.md gives', async (t) => {
  const body = encodeBody(fields)
  t.equal(body.length, 32)
  t.equal(body[0], 1, 'version')
  t.equal(body[1], Purpose.Login, 'purpose')
  t.equal(body[2], 7, 'kid')
  t.equal(body[3], Flag.OneTime, 'flags')
  t.equal(body.toString('hex', 4, 20), '01890a5dac96774bbcceb302099a8057', 'user id bytes')
  t.equal(body.readUInt32BE(20), 1_800_000_000, 'expires_at big-endian')
  t.equal(body.readUInt32BE(24), 3, 'rev')
  t.equal(body.readUInt32BE(28), 41, 'seq')
  const token = encodeToken(body, Buffer.alloc(16, 0xab))
  t.equal(token.length, TOKEN_CHARS)
  t.match(token, /^[A-Za-z0-9_-]{64}$/)
  const decoded = decodeToken(token)
  t.same(decoded.fields, fields)
  t.same(decoded.mac, Buffer.alloc(16, 0xab))
})

t.test('encodeBody refuses out-of-range fields as a programming error', async (t) => {
  t.throws(() => encodeBody({ ...fields, kid: 256 }), TypeError)
  t.throws(() => encodeBody({ ...fields, rev: -1 }), TypeError)
  t.throws(() => encodeBody({ ...fields, seq: 2 ** 32 }), TypeError)
  t.throws(() => encodeBody({ ...fields, expiresAt: 1.5 }), TypeError)
  t.throws(() => encodeBody({ ...fields, userId: 'not-a-uuid' }), TypeError)
  t.throws(() => encodeBody({ ...fields, flags: 0x40 }), TypeError)
  t.throws(() => encodeBody({ ...fields, purpose: 9 as never }), TypeError)
})

t.test('only canonical base64url of the exact length decodes', async (t) => {
  const token = encodeToken(encodeBody(fields), Buffer.alloc(16, 1))
  for (const bad of [
    token.slice(1),
    `${token}A`,
    `${token.slice(0, 63)}=`,
    token.replace(/^./, '+'),
    `${token.slice(0, 62)}/A`,
    ` ${token.slice(1)}`,
  ]) {
    t.throws(() => decodeToken(bad), TokenInvalid, JSON.stringify(bad))
  }
  const bytes = Buffer.from(token, 'base64url')
  bytes[0] = 2
  t.throws(() => decodeToken(bytes.toString('base64url')), TokenInvalid, 'unknown version')
  bytes[0] = 1
  bytes[1] = 6
  t.throws(() => decodeToken(bytes.toString('base64url')), TokenInvalid, 'unknown purpose')
  bytes[1] = 1
  bytes[3] = 0x80
  t.throws(() => decodeToken(bytes.toString('base64url')), TokenInvalid, 'unknown flag')
})

t.test('context bytes follow the flags, in the order scope, redirect, ip, client', async (t) => {
  const all = Flag.HasScope | Flag.HasRedirect | Flag.IpBound | Flag.HasClient
  const ctx = encodeContext(all, {
    scope: 'ab',
    redirect: '/x',
    ip: '1.2.3.4',
    client: 'web',
  })
  t.same(ctx, Buffer.from('0002616200022f780007312e322e332e340003776562', 'hex'))
  t.same(encodeContext(0, { scope: 'ab', ip: '1.2.3.4' }), Buffer.alloc(0), 'unannounced values')
  t.not(
    encodeContext(Flag.HasScope, {}).toString('hex'),
    encodeContext(Flag.HasScope, { scope: '' }).toString('hex'),
    'an absent value never encodes like an empty one',
  )
})

const fieldsArb = fc.record({
  purpose: fc.constantFrom(...Object.values(Purpose)),
  kid: fc.integer({ min: 0, max: 255 }),
  flags: fc.integer({ min: 0, max: 63 }),
  userId: fc.uuid().map((u) => u.toLowerCase()),
  expiresAt: fc.integer({ min: 0, max: 0xffffffff }),
  rev: fc.integer({ min: 0, max: 0xffffffff }),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
})

t.test('property: encode then decode is the identity', async (t) => {
  fc.assert(
    fc.property(fieldsArb, fc.uint8Array({ minLength: 16, maxLength: 16 }), (f, mac) => {
      const decoded = decodeToken(encodeToken(encodeBody(f), Buffer.from(mac)))
      return JSON.stringify(decoded.fields) === JSON.stringify(f)
    }),
  )
  t.pass('round trip held')
})

t.test('property: any string decodes or throws a LatchkeyError, never anything else', async (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.base64String()), (s) => {
      try {
        decodeToken(s)
      } catch (error) {
        return error instanceof LatchkeyError
      }
      return true
    }),
    { numRuns: 2000 },
  )
  t.pass('no foreign exception')
})
