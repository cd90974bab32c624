import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { IpMismatch, TokenExpired, TokenInvalid } from '../../src/errors.js'
import { Flag, Purpose, type TokenContext } from '../../src/tokens/codec.js'
import { KeyRing } from '../../src/tokens/keyring.js'

const NOW = 1_800_000_000
const secretA = { kid: 1, secret: Buffer.alloc(32, 'a') }
const secretB = { kid: 2, secret: Buffer.alloc(32, 'b') }
const ring = new KeyRing([secretA])
const base = {
  purpose: Purpose.Login,
  flags: Flag.OneTime,
  userId: '01890a5d-ac96-774b-bcce-b302099a8057',
  expiresAt: NOW + 900,
  rev: 0,
  seq: 5,
} as const

t.test('mint then open returns the fields, with the signing kid', async (t) => {
  const token = ring.mint(base)
  t.same(ring.open(token, { [Purpose.Login]: 3600 }, {}, NOW), {
    ...base,
    kid: 1,
  })
})

t.test('secrets shorter than 32 bytes or duplicate kids are refused', async (t) => {
  t.throws(() => new KeyRing([{ kid: 1, secret: Buffer.alloc(31) }]), TypeError)
  t.throws(() => new KeyRing([secretA, { ...secretB, kid: 1 }]), TypeError)
  t.throws(() => new KeyRing([]), TypeError)
})

t.test('purposes have separate keys: a refresh token is not a login link', async (t) => {
  const refresh = ring.mint({ ...base, purpose: Purpose.Refresh })
  t.throws(() => ring.open(refresh, { [Purpose.Login]: 3600 }, {}, NOW), TokenInvalid)
  // Same body bytes but for the purpose byte: the MAC under another purpose's key differs.
  const bytes = Buffer.from(refresh, 'base64url')
  bytes[1] = Purpose.Login
  t.throws(
    () => ring.open(bytes.toString('base64url'), { [Purpose.Login]: 3600 }, {}, NOW),
    TokenInvalid,
  )
})

t.test('expiry, and tokens claiming more than the largest TTL', async (t) => {
  const token = ring.mint(base)
  t.throws(() => ring.open(token, { [Purpose.Login]: 3600 }, {}, NOW + 900), TokenExpired)
  t.ok(ring.open(token, { [Purpose.Login]: 3600 }, {}, NOW + 899))
  t.throws(() => ring.open(token, { [Purpose.Login]: 899 }, {}, NOW), TokenInvalid, 'too far ahead')
})

t.test('context binding: scope, redirect and ip must be presented exactly', async (t) => {
  const ctx: TokenContext = {
    scope: 'invoices:read',
    redirect: '/after',
    ip: '203.0.113.9',
  }
  const token = ring.mint({ ...base, purpose: Purpose.Access, flags: 0 }, ctx)
  t.ok(ring.open(token, { [Purpose.Access]: 3600 }, ctx, NOW))
  t.throws(() =>
    ring.open(token, { [Purpose.Access]: 3600 }, { ...ctx, scope: 'invoices:write' }, NOW),
  )
  t.throws(() => ring.open(token, { [Purpose.Access]: 3600 }, { ...ctx, redirect: '/other' }, NOW))
  t.throws(
    () => ring.open(token, { [Purpose.Access]: 3600 }, { ...ctx, ip: '203.0.113.10' }, NOW),
    IpMismatch,
  )
  t.throws(
    () => ring.open(token, { [Purpose.Access]: 3600 }, { ...ctx, ip: undefined }, NOW),
    TokenInvalid,
    'no IP presented: nothing was compared',
  )
  t.throws(() => ring.open(token, { [Purpose.Access]: 3600 }, {}, NOW), TokenInvalid)
  t.throws(
    () => ring.open(token, { [Purpose.Login]: 3600 }, ctx, NOW),
    TokenInvalid,
    'a purpose the caller does not accept',
  )

  const plain = ring.mint(base)
  t.throws(() => ring.open(plain, { [Purpose.Login]: 3600 }, { scope: 'x' }, NOW), TokenInvalid)
  t.throws(() => ring.open(plain, { [Purpose.Login]: 3600 }, { redirect: '/x' }, NOW), TokenInvalid)
  t.ok(
    ring.open(plain, { [Purpose.Login]: 3600 }, { ip: '198.51.100.1' }, NOW),
    'ip ignored if unbound',
  )
})

t.test('client binding: a refresh token opens only for the client it names', async (t) => {
  const accept = { [Purpose.Refresh]: 3600 }
  const refresh = { ...base, purpose: Purpose.Refresh, flags: 0 }
  const token = ring.mint(refresh, { client: 'web' })
  t.equal(ring.open(token, accept, { client: 'web' }, NOW).flags, Flag.HasClient)
  t.throws(() => ring.open(token, accept, { client: 'mobile' }, NOW), TokenInvalid, 'another key')
  t.throws(() => ring.open(token, accept, {}, NOW), TokenInvalid, 'no client presented')
  const unbound = ring.mint(refresh)
  t.throws(
    () => ring.open(unbound, accept, { client: 'web' }, NOW),
    TokenInvalid,
    'a token bound to no client never passes for one bound to this client',
  )
})

t.test('context flags in the token follow the context, not the caller flags', async (t) => {
  const token = ring.mint({ ...base, flags: Flag.OneTime | Flag.IpBound })
  const fields = ring.open(token, { [Purpose.Login]: 3600 }, {}, NOW)
  t.equal(fields.flags, Flag.OneTime)
})

t.test('rotation: an old key verifies while in the ring, fails after', async (t) => {
  const old = new KeyRing([secretA]).mint(base)
  const rotated = new KeyRing([secretB, secretA])
  t.equal(rotated.signingKid, 2)
  t.ok(rotated.open(old, { [Purpose.Login]: 3600 }, {}, NOW))
  t.equal(Buffer.from(rotated.mint(base), 'base64url')[2], 2, 'new tokens carry the new kid')
  t.throws(() => new KeyRing([secretB]).open(old, { [Purpose.Login]: 3600 }, {}, NOW), TokenInvalid)
  // A ring holding a different secret under the same kid rejects the token too.
  const impostor = new KeyRing([{ kid: 1, secret: randomBytes(32) }])
  t.throws(() => impostor.open(old, { [Purpose.Login]: 3600 }, {}, NOW), TokenInvalid)
})

t.test('property: any changed character, truncation or extension is token_invalid', async (t) => {
  const token = ring.mint(base, { redirect: '/x' })
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const open = (s: string) => ring.open(s, { [Purpose.Login]: 3600 }, { redirect: '/x' }, NOW)
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 63 }), fc.constantFrom(...alphabet), (index, char) => {
      fc.pre(token[index] !== char)
      const changed = token.slice(0, index) + char + token.slice(index + 1)
      return throwsInvalid(() => open(changed))
    }),
    { numRuns: 1000 },
  )
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 63 }), (length) =>
      throwsInvalid(() => open(token.slice(0, length))),
    ),
  )
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 20 }), (extra) =>
      throwsInvalid(() => open(token + extra)),
    ),
  )
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 47 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const bytes = Buffer.from(token, 'base64url')
      bytes[i] = (bytes[i] as number) ^ x
      return throwsInvalid(() => open(bytes.toString('base64url')))
    }),
    { numRuns: 1000 },
  )
  t.pass('every alteration was refused')
})

t.test('property: random strings of any length throw a LatchkeyError only', async (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (s) =>
      throwsInvalid(() => ring.open(s, { [Purpose.Login]: 3600 }, {}, NOW)),
    ),
    { numRuns: 2000 },
  )
  t.pass()
})

function throwsInvalid(fn: () => unknown): boolean {
  try {
    fn()
  } catch (error) {
    return error instanceof TokenInvalid
  }
  return false
}

t.test('allowExpired: an expired token opens, its MAC and max TTL still checked', async (t) => {
  const token = ring.mint(base)
  const accept = { [Purpose.Login]: 3600 }
  t.throws(() => ring.open(token, accept, {}, NOW + 901), TokenExpired, 'expired by default')
  t.same(ring.open(token, accept, {}, NOW + 10_000, { allowExpired: true }), { ...base, kid: 1 })
  const bytes = Buffer.from(token, 'base64url')
  bytes[47] = (bytes[47] ?? 0) ^ 1
  t.throws(
    () => ring.open(bytes.toString('base64url'), accept, {}, NOW + 10_000, { allowExpired: true }),
    TokenInvalid,
    'a forged MAC still fails',
  )
  const tooLong = ring.mint({ ...base, expiresAt: NOW + 7200 })
  t.throws(
    () => ring.open(tooLong, accept, {}, NOW, { allowExpired: true }),
    TokenInvalid,
    'a lifetime beyond the max TTL still fails',
  )
})

t.test('a report token (purpose 5) is never a login link, nor a login link a report', async (t) => {
  const report = ring.mint({ ...base, purpose: Purpose.Report, flags: 0 })
  t.throws(() => ring.open(report, { [Purpose.Login]: 3600 }, {}, NOW), TokenInvalid)
  const bytes = Buffer.from(report, 'base64url')
  bytes[1] = Purpose.Login
  t.throws(
    () => ring.open(bytes.toString('base64url'), { [Purpose.Login]: 3600 }, {}, NOW),
    TokenInvalid,
  )
  const login = ring.mint(base)
  t.throws(() => ring.open(login, { [Purpose.Report]: 604_800 }, {}, NOW), TokenInvalid)
  t.match(ring.open(report, { [Purpose.Report]: 604_800 }, {}, NOW), { purpose: Purpose.Report })
})
