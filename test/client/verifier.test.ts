import { createHmac } from 'node:crypto'
import t, { type Test } from 'tap'
import { LatchkeyError } from '../../client/src/errors.js'
import { createVerifier, type VerifierOptions } from '../../client/src/verifier.js'
import { ManualClock } from '../helpers/clock.js'
import { sessionJwt, signingKey, startFakeLatchkey } from '../helpers/fake-latchkey.js'

const AUDIENCE = 'https://app.example.test'
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

async function setup(t: Test, options: Partial<VerifierOptions> = {}) {
  const fake = await startFakeLatchkey(t)
  const key = await signingKey('ES256')
  fake.keys.push(key.publicJwk)
  const clock = new ManualClock()
  const verifier = createVerifier({
    url: fake.base,
    audience: AUDIENCE,
    now: clock.now,
    ...options,
  })
  t.teardown(() => verifier.close())
  const jwt = (more: Partial<Parameters<typeof sessionJwt>[0]> = {}) =>
    sessionJwt({ issuer: fake.base, audience: AUDIENCE, key, iat: clock.ms / 1000, ...more })
  return { fake, key, clock, verifier, jwt }
}

async function rejects(t: Test, promise: Promise<unknown>, code: string, status = 401) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(error instanceof LatchkeyError, `a LatchkeyError (${String(error)})`)
  t.match(error, { code, status }, `${code} ${status}`)
}

t.test('a session JWT verifies against the JWKS, with its claims typed', async (t) => {
  const { verifier, jwt, fake } = await setup(t)
  const claims = await verifier.verify(await jwt({ claims: { rev: 3, sub: 'user-1' } }))
  t.match(claims, {
    iss: fake.base,
    aud: AUDIENCE,
    sub: 'user-1',
    client_id: 'backend',
    email: 'ada@example.com',
    rev: 3,
  })
  t.type(claims.sid, 'string')
  await verifier.verify(await jwt())
  t.equal(fake.count('/.well-known/jwks.json'), 1, 'the JWKS is fetched once and cached')
})

t.test('EdDSA keys verify too; the algorithm is the key’s, not the header’s', async (t) => {
  const { verifier, fake, clock } = await setup(t)
  const ed = await signingKey('EdDSA')
  fake.keys.push(ed.publicJwk)
  const token = await sessionJwt({
    issuer: fake.base,
    audience: AUDIENCE,
    key: ed,
    iat: clock.ms / 1000,
  })
  t.equal((await verifier.verify(token)).client_id, 'backend')

  // The EdDSA key's kid in an ES256 header: jose finds no ES256 key of that kid.
  const es = await signingKey('ES256', ed.kid)
  const lying = await sessionJwt({
    issuer: fake.base,
    audience: AUDIENCE,
    key: es,
    iat: clock.ms / 1000,
  })
  await rejects(t, verifier.verify(lying), 'token_invalid')
})

t.test('pinned: alg none, HS256 with the public key, typ, iss, aud', async (t) => {
  const { verifier, jwt, key, fake, clock } = await setup(t)
  const payload = {
    iss: fake.base,
    aud: AUDIENCE,
    sub: 'u',
    client_id: 'c',
    sid: 's',
    email: 'e',
    rev: 0,
    iat: clock.ms / 1000,
    exp: clock.ms / 1000 + 900,
    jti: 'j',
  }
  const none = `${b64({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${b64(payload)}.`
  await rejects(t, verifier.verify(none), 'token_invalid')
  const hsInput = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })}.${b64(payload)}`
  const hsSig = createHmac('sha256', JSON.stringify(key.publicJwk))
    .update(hsInput)
    .digest('base64url')
  await rejects(t, verifier.verify(`${hsInput}.${hsSig}`), 'token_invalid')

  await rejects(t, verifier.verify(await jwt({ header: { typ: 'JWT' } })), 'token_invalid')
  await rejects(t, verifier.verify(await jwt({ issuer: 'https://evil.test' })), 'token_invalid')
  await rejects(t, verifier.verify(await jwt({ audience: 'https://other.test' })), 'token_invalid')
  // A link token (64 characters of base64url) and junk.
  await rejects(t, verifier.verify('A'.repeat(64)), 'token_invalid')
  await rejects(t, verifier.verify(`${'a'.repeat(9000)}.b.c`), 'token_invalid')
  // A signature of another key with a known kid.
  const stranger = await signingKey('ES256', key.kid)
  const forged = await sessionJwt({
    issuer: fake.base,
    audience: AUDIENCE,
    key: stranger,
    iat: clock.ms / 1000,
  })
  await rejects(t, verifier.verify(forged), 'token_invalid')
})

t.test('required claims: sid, rev, client_id, jti … each missing or mistyped fails', async (t) => {
  const { verifier, jwt } = await setup(t)
  for (const claim of ['sub', 'sid', 'rev', 'client_id', 'jti', 'email']) {
    await rejects(
      t,
      verifier.verify(await jwt({ claims: { [claim]: undefined } })),
      'token_invalid',
    )
  }
  for (const rev of ['0', -1, 1.5]) {
    await rejects(t, verifier.verify(await jwt({ claims: { rev } })), 'token_invalid')
  }
})

t.test('an expired JWT is token_expired, by the injected clock', async (t) => {
  const { verifier, jwt, clock } = await setup(t)
  const token = await jwt({ ttl: 60 })
  await verifier.verify(token)
  clock.advance(60)
  await rejects(t, verifier.verify(token), 'token_expired')
})

t.test('an unknown kid fetches the JWKS again: a rotation just works', async (t) => {
  const { verifier, jwt, fake, clock } = await setup(t, { jwksCooldown: 0 })
  await verifier.verify(await jwt())
  const next = await signingKey('ES256')
  fake.keys.unshift(next.publicJwk)
  const rotated = await sessionJwt({
    issuer: fake.base,
    audience: AUDIENCE,
    key: next,
    iat: clock.ms / 1000,
  })
  await verifier.verify(rotated)
  t.equal(fake.count('/.well-known/jwks.json'), 2, 'one more fetch, for the new kid')
  await verifier.verify(await jwt())
  t.equal(fake.count('/.well-known/jwks.json'), 2, 'the old key is still in the cached set')
})

t.test('within the cooldown an unknown kid costs no fetch', async (t) => {
  const { verifier, jwt, fake, clock } = await setup(t)
  await verifier.verify(await jwt())
  const made = await signingKey('ES256')
  const token = await sessionJwt({
    issuer: fake.base,
    audience: AUDIENCE,
    key: made,
    iat: clock.ms / 1000,
  })
  for (let i = 0; i < 5; i++) await rejects(t, verifier.verify(token), 'token_invalid')
  t.equal(fake.count('/.well-known/jwks.json'), 1)
})

t.test('a JWKS that cannot be fetched is unavailable (503), not a bad token', async (t) => {
  const { verifier, jwt, fake } = await setup(t)
  fake.state.jwksStatus = 500
  await rejects(t, verifier.verify(await jwt()), 'unavailable', 503)
  const nowhere = createVerifier({ url: 'http://127.0.0.1:1', audience: AUDIENCE })
  await rejects(t, nowhere.verify(await jwt()), 'unavailable', 503)
})

t.test('the issuer is the url, with or without a trailing slash', async (t) => {
  const { jwt, fake, clock } = await setup(t)
  const slash = createVerifier({ url: `${fake.base}/`, audience: AUDIENCE, now: clock.now })
  t.ok(await slash.verify(await jwt()))
  const asUrl = createVerifier({ url: new URL(fake.base), audience: AUDIENCE, now: clock.now })
  t.ok(await asUrl.verify(await jwt()))
})
