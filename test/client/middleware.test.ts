import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { type LatchkeyRequest, latchkeyMiddleware } from '../../client/src/express.js'
import { latchkey } from '../../client/src/fastify.js'
import { createVerifier, type Verifier } from '../../client/src/verifier.js'
import { ManualClock } from '../helpers/clock.js'
import { sessionJwt, signingKey, startFakeLatchkey } from '../helpers/fake-latchkey.js'

const AUDIENCE = 'https://app.example.test'

async function setup(t: Test) {
  const fake = await startFakeLatchkey(t)
  const key = await signingKey('ES256')
  fake.keys.push(key.publicJwk)
  const clock = new ManualClock()
  const options = { url: fake.base, audience: AUDIENCE, now: clock.now }
  const verifier = createVerifier(options)
  const jwt = (claims: Record<string, unknown> = {}) =>
    sessionJwt({ issuer: fake.base, audience: AUDIENCE, key, iat: clock.ms / 1000, claims })
  return { fake, verifier, options, jwt }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

t.test('fastify: guards the routes of its context, sets request.latchkey', async (t) => {
  const { verifier, jwt } = await setup(t)
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/public', async (request) => ({ latchkey: request.latchkey }))
  await app.register(async (api) => {
    await api.register(latchkey, { verifier })
    api.get('/me', async (request) => ({ sub: request.latchkey?.sub }))
  })

  const open = await app.inject({ url: '/public' })
  t.same(open.json(), {}, 'outside the guarded context: untouched')

  const none = await app.inject({ url: '/me' })
  t.equal(none.statusCode, 401)
  t.match(none.headers['content-type'], /^application\/problem\+json/)
  t.equal(none.headers['www-authenticate'], 'Bearer')
  t.match(none.json(), { status: 401, code: 'unauthorized' })

  const bad = await app.inject({ url: '/me', headers: bearer('not.a.jwt') })
  t.equal(bad.statusCode, 401)
  t.equal(bad.headers['www-authenticate'], 'Bearer error="invalid_token"')
  t.equal(bad.json().code, 'token_invalid')

  const basic = await app.inject({ url: '/me', headers: { authorization: 'Basic dTpw' } })
  t.equal(basic.json().code, 'unauthorized')

  const ok = await app.inject({
    url: '/me',
    headers: { authorization: `bearer ${await jwt({ sub: 'ada' })}` },
  })
  t.equal(ok.statusCode, 200, 'the scheme is case-insensitive')
  t.same(ok.json(), { sub: 'ada' })
})

t.test(
  'fastify: given verifier options, it makes the verifier and a JWKS outage is 503',
  async (t) => {
    const { options, jwt, fake } = await setup(t)
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(latchkey, options)
    app.get('/me', async (request) => request.latchkey)
    const token = await jwt()
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)

    const other = Fastify()
    t.teardown(() => other.close())
    await other.register(latchkey, options)
    other.get('/me', async (request) => request.latchkey)
    fake.state.jwksStatus = 502
    const down = await other.inject({ url: '/me', headers: bearer(token) })
    t.equal(down.statusCode, 503)
    t.equal(down.headers['retry-after'], '5')
    t.equal(down.json().code, 'unavailable')
  },
)

t.test('fastify: an error that is not a rejection is the app’s error, not a 401', async (t) => {
  const broken: Verifier = {
    verify: async () => {
      throw new RangeError('bug')
    },
    sync: async () => {},
    feedStatus: () => undefined,
    close: () => {},
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(latchkey, { verifier: broken })
  app.get('/me', async () => 'never')
  const res = await app.inject({ url: '/me', headers: bearer('a.b.c') })
  t.equal(res.statusCode, 500)
})

/** A node:http server running the middleware, then a handler that echoes req.latchkey. */
async function expressStyle(t: Test, verifier: Verifier) {
  const middleware = latchkeyMiddleware(verifier)
  const server = createServer((req, res) => {
    middleware(req, res, (error) => {
      if (error) {
        res.writeHead(500).end(String(error))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify((req as LatchkeyRequest).latchkey))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test(
  'express-style middleware: req.latchkey on success, problem+json 401 otherwise',
  async (t) => {
    const { verifier, jwt } = await setup(t)
    const base = await expressStyle(t, verifier)

    const ok = await fetch(base, { headers: bearer(await jwt({ sub: 'bob' })) })
    t.equal(ok.status, 200)
    t.match(await ok.json(), { sub: 'bob', client_id: 'backend' })

    const none = await fetch(base)
    t.equal(none.status, 401)
    t.equal(none.headers.get('content-type'), 'application/problem+json')
    t.equal(none.headers.get('www-authenticate'), 'Bearer')
    t.match(await none.json(), { code: 'unauthorized', status: 401 })

    const bad = await fetch(base, { headers: bearer('x.y.z') })
    t.equal(bad.status, 401)
    t.match(await bad.json(), { code: 'token_invalid' })
  },
)

t.test('express-style middleware: an unexpected error goes to next(error)', async (t) => {
  const broken: Verifier = {
    verify: async () => {
      throw new RangeError('bug')
    },
    sync: async () => {},
    feedStatus: () => undefined,
    close: () => {},
  }
  const base = await expressStyle(t, broken)
  const res = await fetch(base, { headers: bearer('a.b.c') })
  t.equal(res.status, 500)
  t.equal(await res.text(), 'RangeError: bug')
})
