// Session JWTs checked the way backends check them: a real server on a socket, its JWKS fetched
// over HTTP by each library. The jose and jsonwebtoken stacks are the README's own examples
// ("Verifying sessions in your backend"), run with this server's addresses. ES256 works with
// every stack; EdDSA only with jose.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import buildGetJwks from 'get-jwks'
import type { CryptoKey, JWK } from 'jose'
import { decodeJwt, exportSPKI, importJWK, SignJWT } from 'jose'
import jwt from 'jsonwebtoken'
import type { Test } from 'tap'
import t from 'tap'
import { generateSessionKey, type SessionAlgorithm } from '../../src/sessions/jwt.js'
import { build, listenLocal, PUBLIC_URL, serviceKey } from '../helpers/app.js'
import { ManualClock } from '../helpers/clock.js'
import { tempDir } from '../helpers/temp.js'

const ISSUER = PUBLIC_URL
const AUDIENCE = 'https://app.example.test'

interface Server {
  base: string
  jwksUri: string
  key: JWK
  /** A fresh session JWT, as a backend gets it from POST /v1/links/verify. */
  session(): Promise<string>
}

let counter = 0

/** A latchkey listening on port 0 whose only session key has the given algorithm. */
async function serve(t: Test, alg: SessionAlgorithm): Promise<Server> {
  const key = (await generateSessionKey({ alg })) as JWK
  // The libraries compare exp and iat with the real time, so the server runs on it too.
  const h = await build(t, {
    clock: new ManualClock(Date.now()),
    env: { SESSION_KEYS: JSON.stringify([key]), SESSION_AUDIENCE: AUDIENCE },
  })
  const port = await listenLocal(h.app)
  const base = `http://127.0.0.1:${port}`
  const post = async <T>(path: string, body: object): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serviceKey.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${path} answered ${res.status}`)
    return (await res.json()) as T
  }
  return {
    base,
    jwksUri: `${base}/.well-known/jwks.json`,
    key,
    async session() {
      const email = `interop-${++counter}@example.com`
      const { link } = await post<{ link: string }>('/v1/links', { email, deliver: 'none' })
      const token = new URL(link).searchParams.get('token')
      const verified = await post<{ session: { jwt: string } }>('/v1/links/verify', { token })
      return verified.session.jwt
    },
  }
}

type Verify = (token: string) => Promise<Record<string, unknown>>

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const section = readme.slice(
  readme.indexOf('## Verifying sessions in your backend'),
  readme.indexOf('## Configuration'),
)
const [joseExample, jsonwebtokenExample] = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map(
  (m) => m[1] as string,
)
const snippets = tempDir(t, 'latchkey-readme-')
let loaded = 0

/**
 * A README example as a module: its issuer, audience, JWKS address and algorithm replaced by this
 * test's (each exactly once, so an edit to the example that drops one fails here), and its
 * packages resolved from this repository.
 */
async function readmeExample(example: string | undefined, server: Server, alg: string) {
  if (example === undefined) throw new Error('the README example is missing')
  let code = example
  for (const [from, to] of [
    ["'https://login.example.com'", `'${ISSUER}'`],
    ["'https://app.example.com'", `'${AUDIENCE}'`],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the example's template, as text
    ['`${ISSUER}/.well-known/jwks.json`', `'${server.jwksUri}'`],
    ["'ES256'", `'${alg}'`],
  ] as const) {
    if (code.split(from).length !== 2) throw new Error(`${from} is not in the example once`)
    code = code.replace(from, to)
  }
  code = code.replace(
    / from '([\w-]+)'/g,
    (_, name: string) => ` from '${import.meta.resolve(name)}'`,
  )
  const file = join(snippets, `example-${++loaded}.mjs`)
  writeFileSync(file, code)
  const { verifySession } = (await import(pathToFileURL(file).href)) as { verifySession: Verify }
  return verifySession
}

/** jose, as for any backend on Node, Deno, Bun or a browser. */
const withJose = (server: Server, alg: SessionAlgorithm) => readmeExample(joseExample, server, alg)

/** jsonwebtoken with jwks-rsa, the usual Express stack. */
const withJsonwebtoken = (server: Server, alg: SessionAlgorithm) =>
  readmeExample(jsonwebtokenExample, server, alg)

/** get-jwks `getPublicKey`, the pattern @fastify/jwt documents, here with jsonwebtoken. */
async function withGetJwks(server: Server, alg: SessionAlgorithm): Promise<Verify> {
  const getJwks = buildGetJwks()
  // The documented pattern takes the domain from `iss`, which is where PUBLIC_URL serves the
  // JWKS; this test's PUBLIC_URL is not where the test server listens, so name it.
  return async (token) => {
    const { header } = jwt.decode(token, { complete: true }) ?? { header: undefined }
    if (header?.typ !== 'at+jwt') throw new Error('not a session JWT')
    const publicKey = await getJwks.getPublicKey({ domain: server.base, kid: header.kid, alg })
    const options = { algorithms: [alg as jwt.Algorithm], issuer: ISSUER, audience: AUDIENCE }
    return jwt.verify(token, publicKey, options) as Record<string, unknown>
  }
}

const stacks = {
  jose: withJose,
  'jsonwebtoken + jwks-rsa': withJsonwebtoken,
  'get-jwks': withGetJwks,
}

async function failure(promise: Promise<unknown>): Promise<Error | undefined> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  return undefined
}

/**
 * A JWT signed with the server's own key that differs from a session in one respect; with
 * `hs256PublicKey`, one HMAC-signed with the public key's PEM as the secret (alg confusion).
 */
async function forge(
  server: Server,
  header: object,
  claims: object,
  hs256PublicKey = false,
): Promise<string> {
  const alg = server.key.kty === 'EC' ? 'ES256' : 'EdDSA'
  const now = Math.floor(Date.now() / 1000)
  const payload = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: '0190b5a4-7c3e-7d1a-9f0e-1a2b3c4d5e6f',
    client_id: 'svc',
    email: 'x@example.com',
    rev: 0,
    iat: now,
    exp: now + 900,
    jti: 'f2c1d8a0-1111-4222-8333-444455556666',
    ...claims,
  }
  const { d: _private, ...publicJwk } = server.key
  const pem = await exportSPKI(
    (await importJWK(publicJwk, alg, { extractable: true })) as CryptoKey,
  )
  return new SignJWT(payload)
    .setProtectedHeader({
      alg: hs256PublicKey ? 'HS256' : alg,
      kid: server.key.kid,
      typ: 'at+jwt',
      ...header,
    })
    .sign(hs256PublicKey ? new TextEncoder().encode(pem) : await importJWK(server.key, alg))
}

t.test('ES256 sessions verify with jose, jsonwebtoken + jwks-rsa and get-jwks', async (t) => {
  const server = await serve(t, 'ES256')
  const token = await server.session()
  const claims = decodeJwt(token)
  t.match(claims, { iss: ISSUER, aud: AUDIENCE, client_id: 'svc', sub: String, jti: String })

  for (const [name, stack] of Object.entries(stacks)) {
    const verify = await stack(server, 'ES256')
    t.strictSame(await verify(token), claims, `${name}: verified, every claim intact`)

    const otherKind = await forge(server, { typ: 'JWT' }, {})
    t.ok(await failure(verify(otherKind)), `${name}: refuses another kind of JWT (typ)`)
    const otherApp = await forge(server, {}, { aud: 'https://other.example.test' })
    t.ok(await failure(verify(otherApp)), `${name}: refuses another audience`)
    const otherIssuer = await forge(server, {}, { iss: 'https://evil.example.test' })
    t.ok(await failure(verify(otherIssuer)), `${name}: refuses another issuer`)
    const confused = await forge(server, {}, {}, true)
    t.ok(await failure(verify(confused)), `${name}: refuses HS256 keyed with the public key`)
    const [h, p] = token.split('.')
    t.ok(await failure(verify(`${h}.${p}.${'A'.repeat(86)}`)), `${name}: refuses a bad signature`)
  }
})

t.test('EdDSA sessions verify with jose only', async (t) => {
  const server = await serve(t, 'EdDSA')
  const token = await server.session()
  t.equal((await (await withJose(server, 'EdDSA'))(token)).client_id, 'svc', 'jose: verified')

  // What a backend on these stacks sees: a library error, not a verdict on the token. jsonwebtoken
  // throws a plain Error, not its JsonWebTokenError, so an app that maps only the latter to 401
  // answers 500.
  const jsonwebtoken = await failure((await withJsonwebtoken(server, 'EdDSA'))(token))
  t.match(jsonwebtoken?.message, /^Unknown key type "ed25519"/, 'jsonwebtoken: no EdDSA')
  t.notOk(jsonwebtoken instanceof jwt.JsonWebTokenError, 'jsonwebtoken: not a token error')
  const getJwks = await failure((await withGetJwks(server, 'EdDSA'))(token))
  t.match(getJwks?.message, /^Unsupported key type "OKP"/, 'get-jwks: no Ed25519 keys')
})
