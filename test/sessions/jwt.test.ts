import { createHash, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import type { CryptoKey, JWK, JWTPayload } from 'jose'
import {
  base64url,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  UnsecuredJWT,
} from 'jose'
import t from 'tap'
import { TokenExpired, TokenInvalid } from '../../src/errors.js'
import type { SessionOptions } from '../../src/sessions/jwt.js'
import { generateSessionKey, SessionKeys } from '../../src/sessions/jwt.js'

const options: SessionOptions = {
  issuer: 'https://auth.example.com',
  audience: 'https://app.example.com',
  ttlSeconds: 900,
}
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0, 250)
const NOW_S = Math.floor(NOW / 1000)
const subject = {
  sub: '0190b5a4-7c3e-7d1a-9f0e-1a2b3c4d5e6f',
  client_id: 'billing',
  sid: '0190b5a4-8000-7d1a-9f0e-000000000001',
  email: 'ada@example.com',
  rev: 3,
}

const keyA = (await generateSessionKey({ kid: 'a', alg: 'EdDSA' })) as JWK
const keyB = (await generateSessionKey({ kid: 'b', alg: 'EdDSA' })) as JWK
const ecKey = await generatePrivateJwk('ES256', 'e')

async function generatePrivateJwk(alg: 'ES256' | 'EdDSA', kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true })
  return { ...(await exportJWK(privateKey)), kid }
}

function publicPart(jwk: JWK): JWK {
  const { d: _d, ...rest } = jwk
  return rest
}

async function privateKeyOf(jwk: JWK): Promise<CryptoKey> {
  return (await importJWK(jwk, jwk.kty === 'EC' ? 'ES256' : 'EdDSA')) as CryptoKey
}

/** What `run` throws or rejects with; undefined when it succeeds. */
async function failure(run: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof run === 'function' ? run() : run)
  } catch (error) {
    return error
  }
  return undefined
}

/** A token signed with a trusted private key: every check but the one under test passes. */
async function forge(
  jwk: JWK,
  change: {
    header?: Record<string, unknown>
    claims?: Record<string, unknown>
    drop?: string[]
  } = {},
): Promise<string> {
  const claims: Record<string, unknown> = {
    iss: options.issuer,
    aud: options.audience,
    sub: subject.sub,
    client_id: subject.client_id,
    sid: subject.sid,
    email: subject.email,
    rev: subject.rev,
    iat: NOW_S,
    exp: NOW_S + 900,
    jti: 'f2c1d8a0-1111-4222-8333-444455556666',
    ...change.claims,
  }
  for (const name of change.drop ?? []) delete claims[name]
  const alg = jwk.kty === 'EC' ? 'ES256' : 'EdDSA'
  return new SignJWT(claims as JWTPayload)
    .setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt', ...change.header })
    .sign(await privateKeyOf(jwk))
}

function sameSignedToken(a: string, b: string): boolean {
  const as = a.split('.')
  const bs = b.split('.')
  if (as.length !== 3 || bs.length !== 3 || as[0] !== bs[0] || as[1] !== bs[1]) return false
  try {
    return Buffer.from(base64url.decode(as[2] as string)).equals(base64url.decode(bs[2] as string))
  } catch {
    return false
  }
}

function encodeSegment(value: unknown): string {
  return base64url.encode(JSON.stringify(value))
}

const ring = await SessionKeys.load([keyA, keyB], options)

t.test('sign → verify round trip with the exact header and claims', async (t) => {
  const { jwt, expiresAt } = await ring.sign(subject, NOW)
  t.equal(expiresAt, NOW_S + 900)
  t.strictSame(decodeProtectedHeader(jwt), { alg: 'EdDSA', kid: 'a', typ: 'at+jwt' })
  const raw = decodeJwt(jwt)
  t.strictSame(Object.keys(raw).sort(), [
    'aud',
    'client_id',
    'email',
    'exp',
    'iat',
    'iss',
    'jti',
    'rev',
    'sid',
    'sub',
  ])
  t.match(raw, {
    iss: options.issuer,
    aud: options.audience,
    sub: subject.sub,
    client_id: 'billing',
    email: subject.email,
    rev: 3,
    iat: NOW_S,
    exp: NOW_S + 900,
  })
  t.match(raw.jti, /^[0-9a-f-]{36}$/)

  const claims = await ring.verify(jwt, NOW)
  t.strictSame(claims, {
    sub: subject.sub,
    client_id: 'billing',
    sid: subject.sid,
    email: subject.email,
    rev: 3,
    iat: NOW_S,
    exp: NOW_S + 900,
    jti: raw.jti,
  })

  const other = await ring.sign(subject, NOW)
  t.not(decodeJwt(other.jwt).jti, raw.jti, 'jti is fresh for every token')
})

t.test('rev 0 is a valid revocation counter', async (t) => {
  const { jwt } = await ring.sign({ ...subject, rev: 0 }, NOW)
  t.equal((await ring.verify(jwt, NOW)).rev, 0)
})

t.test('expiry follows the injected clock', async (t) => {
  const { jwt } = await ring.sign(subject, NOW)
  const lastValidMs = (NOW_S + 900) * 1000 - 1
  t.equal((await ring.verify(jwt, lastValidMs)).sub, subject.sub, 'valid until the exp second')
  t.type(await failure(ring.verify(jwt, (NOW_S + 900) * 1000)), TokenExpired, 'exp itself is past')
  t.type(await failure(ring.verify(jwt, NOW + 86_400_000)), TokenExpired)
})

t.test('an expired token with a bad signature is invalid, not expired', async (t) => {
  const { jwt } = await ring.sign(subject, NOW)
  const [h, p, s] = jwt.split('.') as [string, string, string]
  const flipped = `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`
  t.type(await failure(ring.verify(flipped, NOW + 86_400_000)), TokenInvalid)
})

t.test('issuer, audience and typ are pinned', async (t) => {
  const cases: Record<string, Parameters<typeof forge>[1]> = {
    'wrong issuer': { claims: { iss: 'https://evil.example.com' } },
    'wrong audience': { claims: { aud: 'https://other-app.example.com' } },
    'no issuer': { drop: ['iss'] },
    'no audience': { drop: ['aud'] },
    'typ JWT': { header: { typ: 'JWT' } },
    'typ id_token+jwt': { header: { typ: 'id_token+jwt' } },
    'no typ': { header: { typ: undefined } },
  }
  t.equal((await ring.verify(await forge(keyA), NOW)).sub, subject.sub, 'the baseline verifies')
  for (const [name, change] of Object.entries(cases)) {
    t.type(await failure(ring.verify(await forge(keyA, change), NOW)), TokenInvalid, name)
  }
})

t.test('claims are validated strictly', async (t) => {
  const cases: Record<string, Parameters<typeof forge>[1]> = {
    'no sub': { drop: ['sub'] },
    'empty sub': { claims: { sub: '' } },
    'no client_id': { drop: ['client_id'] },
    'empty client_id': { claims: { client_id: '' } },
    'client_id not a string': { claims: { client_id: 7 } },
    'no sid (a JWT from before sessions were rows)': { drop: ['sid'] },
    'empty sid': { claims: { sid: '' } },
    'sid not a string': { claims: { sid: 1 } },
    'no email': { drop: ['email'] },
    'email not a string': { claims: { email: 42 } },
    'no rev': { drop: ['rev'] },
    'negative rev': { claims: { rev: -1 } },
    'fractional rev': { claims: { rev: 1.5 } },
    'rev as a string': { claims: { rev: '3' } },
    'no jti': { drop: ['jti'] },
    'jti not a string': { claims: { jti: 7 } },
    'no iat': { drop: ['iat'] },
    'no exp': { drop: ['exp'] },
    'iat not a number': { claims: { iat: 'yesterday' } },
    'not yet valid': { claims: { nbf: NOW_S + 60 } },
  }
  for (const [name, change] of Object.entries(cases)) {
    t.type(await failure(ring.verify(await forge(keyA, change), NOW)), TokenInvalid, name)
  }
})

t.test('a lifetime longer than SESSION_TTL, or an iat in the future, is refused', async (t) => {
  const valid: Record<string, Parameters<typeof forge>[1]> = {
    'exactly SESSION_TTL': { claims: { iat: NOW_S - 100, exp: NOW_S - 100 + 900 } },
    'shorter than SESSION_TTL': { claims: { iat: NOW_S, exp: NOW_S + 60 } },
    'iat 30 s ahead (clock skew)': { claims: { iat: NOW_S + 30, exp: NOW_S + 930 } },
  }
  for (const [name, change] of Object.entries(valid)) {
    t.equal((await ring.verify(await forge(keyA, change), NOW)).sub, subject.sub, name)
  }
  const invalid: Record<string, Parameters<typeof forge>[1]> = {
    'one second longer': { claims: { iat: NOW_S, exp: NOW_S + 901 } },
    'a year long': { claims: { iat: NOW_S - 60, exp: NOW_S + 365 * 86_400 } },
    'iat 31 s ahead': { claims: { iat: NOW_S + 31, exp: NOW_S + 931 } },
    'iat a day ahead': { claims: { iat: NOW_S + 86_400, exp: NOW_S + 86_400 + 900 } },
  }
  for (const [name, change] of Object.entries(invalid)) {
    t.type(await failure(ring.verify(await forge(keyA, change), NOW)), TokenInvalid, name)
  }

  // The same key under a longer SESSION_TTL: lowering the setting shortens the tokens already out.
  const hourly = await SessionKeys.load([keyA], { ...options, ttlSeconds: 3600 })
  const { jwt } = await hourly.sign(subject, NOW)
  t.equal((await hourly.verify(jwt, NOW)).sub, subject.sub, 'valid where it was signed')
  t.type(await failure(ring.verify(jwt, NOW)), TokenInvalid, 'refused under SESSION_TTL 900')
})

t.test('alg none is refused', async (t) => {
  const claims = decodeJwt(await forge(keyA))
  const plain = new UnsecuredJWT(claims).encode()
  t.type(await failure(ring.verify(plain, NOW)), TokenInvalid, 'jose-made unsecured JWT')

  for (const alg of ['none', 'None', 'NONE']) {
    const header = encodeSegment({ alg, kid: 'a', typ: 'at+jwt' })
    for (const signature of ['', 'AAAA']) {
      const token = `${header}.${encodeSegment(claims)}.${signature}`
      t.type(await failure(ring.verify(token, NOW)), TokenInvalid, `${alg} with a known kid`)
    }
  }
})

t.test('HS256 signed with the public key as the secret is refused', async (t) => {
  const publicJwk = ring.jwks().keys.find((k) => (k as JWK).kid === 'a') as JWK
  const x = publicJwk.x as string
  const secrets: Record<string, Uint8Array> = {
    'raw public key bytes': base64url.decode(x),
    'the x string': new TextEncoder().encode(x),
    'the public JWK as JSON': new TextEncoder().encode(JSON.stringify(publicJwk)),
  }
  const claims = decodeJwt(await forge(keyA))
  for (const [name, secret] of Object.entries(secrets)) {
    for (const alg of ['HS256', 'HS512']) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg, kid: 'a', typ: 'at+jwt' })
        .sign(secret)
      t.type(await failure(ring.verify(token, NOW)), TokenInvalid, `${alg} with ${name}`)
    }
  }
})

t.test('a key outside the ring is refused', async (t) => {
  const stranger = (await generateSessionKey({ kid: 'c' })) as JWK
  t.type(await failure(ring.verify(await forge(stranger), NOW)), TokenInvalid, 'unknown kid')
  const impostor = { ...((await generateSessionKey()) as JWK), kid: 'a' }
  t.type(await failure(ring.verify(await forge(impostor), NOW)), TokenInvalid, 'known kid')
  t.type(
    await failure(ring.verify(await forge(keyA, { header: { kid: undefined } }), NOW)),
    TokenInvalid,
    'no kid',
  )
  t.type(
    await failure(ring.verify(await forge(keyA, { header: { kid: '__proto__' } }), NOW)),
    TokenInvalid,
    'kid __proto__',
  )
})

t.test('the algorithm is pinned per key, not per ring', async (t) => {
  const mixed = await SessionKeys.load([keyA, ecKey], options)
  t.equal((await mixed.verify(await forge(ecKey), NOW)).sub, subject.sub)
  // EdDSA-signed token that names the ES256 key's kid: right ring, wrong key for that alg.
  const swapped = await forge(keyA, { header: { kid: 'e' } })
  t.type(await failure(mixed.verify(swapped, NOW)), TokenInvalid, 'EdDSA under an ES256 kid')
  const swappedBack = await forge(ecKey, { header: { kid: 'a' } })
  t.type(await failure(mixed.verify(swappedBack, NOW)), TokenInvalid, 'ES256 under an EdDSA kid')
})

t.test('rotation: a token of a previous key verifies while the key is in the ring', async (t) => {
  const ringB = await SessionKeys.load([keyB], options)
  const { jwt } = await ringB.sign(subject, NOW)
  t.equal(decodeProtectedHeader(jwt).kid, 'b')

  const rotated = await SessionKeys.load([keyA, keyB], options)
  t.equal((await rotated.verify(jwt, NOW)).sub, subject.sub, 'B still verifies beside A')
  t.equal(decodeProtectedHeader((await rotated.sign(subject, NOW)).jwt).kid, 'a', 'A now signs')

  const retired = await SessionKeys.load([keyA], options)
  t.type(await failure(retired.verify(jwt, NOW)), TokenInvalid, 'B fails once removed')
})

t.test('jwks() publishes every public key and nothing private', async (t) => {
  const { keys } = ring.jwks()
  t.equal(keys.length, 2)
  t.strictSame(keys[0], {
    kty: 'OKP',
    crv: 'Ed25519',
    x: keyA.x,
    kid: 'a',
    alg: 'EdDSA',
    use: 'sig',
  })
  t.strictSame(keys[1], {
    kty: 'OKP',
    crv: 'Ed25519',
    x: keyB.x,
    kid: 'b',
    alg: 'EdDSA',
    use: 'sig',
  })
  t.notMatch(JSON.stringify(ring.jwks()), /"d"|"k"|"p"|"q"/)
  t.equal(ring.jwks(), ring.jwks(), 'computed once')
  t.ok(Object.isFrozen(ring.jwks()) && Object.isFrozen(keys[0]), 'callers cannot alter it')

  const ec = await SessionKeys.load([ecKey], options)
  t.strictSame(ec.jwks().keys[0], {
    kty: 'EC',
    crv: 'P-256',
    x: ecKey.x,
    y: ecKey.y,
    kid: 'e',
    alg: 'ES256',
    use: 'sig',
  })
})

t.test('an ES256 key signs and verifies', async (t) => {
  const ec = await SessionKeys.load([ecKey], options)
  const { jwt } = await ec.sign(subject, NOW)
  t.strictSame(decodeProtectedHeader(jwt), { alg: 'ES256', kid: 'e', typ: 'at+jwt' })
  t.equal((await ec.verify(jwt, NOW)).email, subject.email)
  t.type(await failure(ring.verify(jwt, NOW)), TokenInvalid, 'not in the EdDSA ring')
})

t.test('a link token, random strings and near-JWTs are invalid', async (t) => {
  const linkToken = base64url.encode(randomBytes(48))
  t.equal(linkToken.length, 64)
  const { jwt } = await ring.sign(subject, NOW)
  const [h, p] = jwt.split('.') as [string, string, string]
  const inputs = [
    linkToken,
    '',
    '.',
    '..',
    '...',
    'a.b.c',
    `${h}.${p}`,
    `${h}.${p}.`,
    `${h}..`,
    `${jwt}.`,
    `${jwt} `,
    ` ${jwt}`,
    `${jwt}\n`,
    `${jwt}=`,
    `${h}=.${p}.${jwt.split('.')[2]}`,
    jwt.replace(/\./g, '. '),
    `${h}.${encodeSegment({ ...decodeJwt(jwt), rev: 4 })}.${jwt.split('.')[2]}`,
    `${encodeSegment('a string')}.${p}.${jwt.split('.')[2]}`,
    `${encodeSegment(['array'])}.${p}.${jwt.split('.')[2]}`,
    'x'.repeat(100_000),
    `${h}.${'A'.repeat(20_000)}.${jwt.split('.')[2]}`,
    createHash('sha256').update('x').digest('hex'),
  ]
  for (const input of inputs) {
    t.type(await failure(ring.verify(input, NOW)), TokenInvalid, JSON.stringify(input.slice(0, 40)))
  }
  t.type(await failure(ring.verify(42 as unknown as string, NOW)), TokenInvalid, 'not a string')
})

t.test('any string is TokenInvalid, never another error', async (t) => {
  let runs = 0
  const segment = fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/)
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.tuple(segment, segment, segment).map((parts) => parts.join('.')),
        fc.uint8Array({ minLength: 48, maxLength: 48 }).map((bytes) => base64url.encode(bytes)),
      ),
      async (input) => {
        runs++
        const error = await failure(ring.verify(input, NOW))
        return error instanceof TokenInvalid
      },
    ),
    { numRuns: 300 },
  )
  t.equal(runs, 300, 'every run refused the input')
})

t.test('any single-character change to a signed token is refused', async (t) => {
  let runs = 0
  const { jwt } = await ring.sign(subject, NOW)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: jwt.length - 1 }),
      fc.constantFrom(...alphabet),
      async (at, char) => {
        runs++
        const changed = jwt.slice(0, at) + char + jwt.slice(at + 1)
        const error = await failure(ring.verify(changed, NOW))
        // The signature covers the header and payload as text, so any edit there is refused. The
        // signature segment's last character carries unused bits: an edit there that decodes to
        // the same bytes is the same signature. Every other edit must be refused.
        return sameSignedToken(changed, jwt) ? error === undefined : error instanceof TokenInvalid
      },
    ),
    { numRuns: 300 },
  )
  t.equal(runs, 300, 'every edit was checked')
})

t.test('load refuses unsafe or broken keys, naming the kid', async (t) => {
  const other = await generatePrivateJwk('EdDSA', 'z')
  const p384 = { ...(await generatePrivateJwk('ES256', 'p')), crv: 'P-384' }
  const cases: Record<string, [unknown[], RegExp]> = {
    'an empty ring': [[], /at least one/],
    'an oct key': [
      [{ kty: 'oct', k: base64url.encode(randomBytes(32)), kid: 'sym' }],
      /"sym".*oct/,
    ],
    'a key without kid': [[publicPart({ ...keyA, kid: undefined })], /no "kid"/],
    'an empty kid': [[{ ...keyA, kid: '' }], /no "kid"/],
    'duplicate kids': [[keyA, { ...keyB, kid: 'a' }], /duplicate kid "a"/],
    'a public-only key': [[publicPart(keyB)], /"b".*private part "d"/],
    'an unsupported curve': [[p384], /"p".*unsupported/],
    'an X25519 key': [[{ ...keyA, crv: 'X25519', kid: 'x' }], /"x".*unsupported/],
    'an RSA key': [[{ kty: 'RSA', n: 'AQAB', e: 'AQAB', d: 'AQAB', kid: 'r' }], /"r".*unsupported/],
    'a mismatched alg': [[{ ...keyA, alg: 'HS256' }], /"a".*alg/],
    'an encryption key': [[{ ...keyA, use: 'enc' }], /"a".*use/],
    'x and d from different keys': [[{ ...keyA, d: other.d }], /"a".*cannot be imported/],
    'malformed key material': [[{ ...keyA, x: 'not-a-key' }], /"a".*cannot be imported/],
    'an EC key without y': [[{ ...ecKey, y: undefined }], /"e".*"y"/],
    'a string instead of a JWK': [['{"kty":"OKP"}'], /not a JWK/],
    'null instead of a JWK': [[null], /not a JWK/],
  }
  const notAnArray = await failure(SessionKeys.load('[]' as unknown as object[], options))
  t.type(notAnArray, TypeError, 'a JSON string instead of the parsed array')
  for (const [name, [jwks, message]] of Object.entries(cases)) {
    const error = await failure(SessionKeys.load(jwks as object[], options))
    t.type(error, TypeError, name)
    t.match((error as Error).message, message, name)
  }
})

t.test('load refuses bad options', async (t) => {
  for (const bad of [
    { ...options, issuer: '' },
    { ...options, audience: '' },
    { ...options, ttlSeconds: 0 },
    { ...options, ttlSeconds: 1.5 },
  ]) {
    t.type(await failure(SessionKeys.load([keyA], bad)), TypeError, JSON.stringify(bad))
  }
})

t.test('sign and verify treat a broken clock or subject as a programming error', async (t) => {
  const { jwt } = await ring.sign(subject, NOW)
  for (const now of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
    t.type(await failure(() => ring.sign(subject, now)), TypeError, `sign at ${now}`)
    t.type(await failure(ring.verify(jwt, now)), TypeError, `verify at ${now}`)
  }
  for (const bad of [
    { ...subject, sub: '' },
    { ...subject, client_id: '' },
    { ...subject, client_id: undefined as unknown as string },
    { ...subject, sid: '' },
    { ...subject, email: undefined as unknown as string },
    { ...subject, rev: -1 },
    { ...subject, rev: 0.5 },
  ]) {
    t.type(await failure(() => ring.sign(bad, NOW)), TypeError, JSON.stringify(bad))
  }
})

t.test("a JWT never outlives its session's end", async (t) => {
  const { jwt, expiresAt } = await ring.sign(subject, NOW, NOW_S + 60)
  t.equal(expiresAt, NOW_S + 60)
  t.equal((await ring.verify(jwt, NOW)).exp, NOW_S + 60)
  t.equal((await ring.sign(subject, NOW, NOW_S + 5000)).expiresAt, NOW_S + 900, 'TTL comes first')
  t.type(await failure(() => ring.sign(subject, NOW, NOW_S)), TypeError, 'a session already over')
})

t.test('generateSessionKey makes a loadable private JWK, ES256 unless asked', async (t) => {
  const named = (await generateSessionKey({ kid: '2030-01' })) as JWK
  t.match(named, { kty: 'EC', crv: 'P-256', kid: '2030-01', alg: 'ES256', use: 'sig' })
  t.type(named.d, 'string')
  t.type(named.x, 'string')
  t.type(named.y, 'string')
  const ed = (await generateSessionKey({ alg: 'EdDSA' })) as JWK
  t.match(ed, { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
  t.equal(ed.y, undefined)
  await SessionKeys.load([ed], options)
  t.type(
    await failure(generateSessionKey({ alg: 'RS256' as unknown as 'ES256' })),
    TypeError,
    'only ES256 and EdDSA',
  )

  const unnamed = (await generateSessionKey()) as JWK
  t.match(unnamed.kid, /^[A-Za-z0-9_-]{43}$/, 'kid defaults to the JWK thumbprint')
  t.not(unnamed.kid, ((await generateSessionKey()) as JWK).kid)

  const keys = await SessionKeys.load([named, unnamed], options)
  const { jwt } = await keys.sign(subject, NOW)
  t.equal((await keys.verify(jwt, NOW)).sub, subject.sub)
  t.type(await failure(generateSessionKey({ kid: '' })), TypeError)
})
