// Session JWTs are signed with node:crypto (a hand-built compact JWS), not jose. These tests hold
// that hand-built form to what jose expects: its jwtVerify accepts it against our published JWKS,
// with the same pins latchkey verifies with, and refuses it once the signature is touched.
import type { JWK } from 'jose'
import { base64url, createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose'
import t from 'tap'
import { TokenInvalid } from '../../src/errors.js'
import type { SessionAlgorithm, SessionOptions } from '../../src/sessions/jwt.js'
import { generateSessionKey, SessionKeys } from '../../src/sessions/jwt.js'

const options: SessionOptions = {
  issuer: 'https://auth.example.com',
  audience: 'https://app.example.com',
  ttlSeconds: 900,
}
// The real clock: jose's own jwtVerify below checks exp against it.
const NOW = Date.now()
const subject = {
  sub: '0190b5a4-7c3e-7d1a-9f0e-1a2b3c4d5e6f',
  client_id: 'billing',
  sid: '0190b5a4-8000-7d1a-9f0e-000000000001',
  email: 'ada@example.com',
  rev: 3,
}

/** The signature segment with one bit of its first byte flipped: still valid base64url. */
function tamperSignature(jwt: string): string {
  const [header, payload, signature] = jwt.split('.') as [string, string, string]
  const bytes = base64url.decode(signature)
  bytes[0] = (bytes[0] as number) ^ 0x01
  return `${header}.${payload}.${base64url.encode(bytes)}`
}

for (const alg of ['ES256', 'EdDSA'] as const satisfies readonly SessionAlgorithm[]) {
  t.test(`${alg}: a node-signed JWT verifies with jose against the JWKS`, async (t) => {
    const key = (await generateSessionKey({ kid: `k-${alg}`, alg })) as JWK
    const ring = await SessionKeys.load([key], options)
    const { jwt } = await ring.sign(subject, NOW)

    // Exactly these three members, in this order: nothing jose would add or a verifier could trip on.
    const headerJson = new TextDecoder().decode(base64url.decode(jwt.split('.')[0] as string))
    t.equal(headerJson, JSON.stringify({ alg, kid: `k-${alg}`, typ: 'at+jwt' }))
    t.strictSame(decodeProtectedHeader(jwt), { alg, kid: `k-${alg}`, typ: 'at+jwt' })

    const jwks = createLocalJWKSet(ring.jwks() as { keys: JWK[] })
    const pins = {
      algorithms: [alg],
      issuer: options.issuer,
      audience: options.audience,
      typ: 'at+jwt',
      requiredClaims: ['sub', 'client_id', 'sid', 'iat', 'exp', 'jti'],
    }
    const { payload, protectedHeader } = await jwtVerify(jwt, jwks, pins)
    t.strictSame(protectedHeader, { alg, kid: `k-${alg}`, typ: 'at+jwt' })
    t.match(payload, { ...subject, iss: options.issuer, aud: options.audience })
    t.equal((await ring.verify(jwt, NOW)).sid, subject.sid, 'latchkey verifies it too')

    if (alg === 'ES256') {
      // JWS wants the raw 64-byte r||s form, not the DER a bare crypto.sign gives.
      t.equal(base64url.decode(jwt.split('.')[2] as string).length, 64)
    }

    const tampered = tamperSignature(jwt)
    t.not(tampered, jwt)
    await t.rejects(jwtVerify(tampered, jwks, pins), errors.JWSSignatureVerificationFailed)
    await t.rejects(ring.verify(tampered, NOW), TokenInvalid)
  })
}
