import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import type { Test } from 'tap'
import type { Revocation } from '../../client/src/revocations.js'

export interface SigningKey {
  kid: string
  alg: 'ES256' | 'EdDSA'
  privateKey: CryptoKey
  publicJwk: JWK
}

export async function signingKey(alg: 'ES256' | 'EdDSA' = 'ES256', kid = randomUUID()) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, publicJwk } satisfies SigningKey
}

/**
 * What latchkey's JWKS and revocation feed answer, and nothing else: a node:http server on
 * 127.0.0.1:0 whose keys and feed entries a test sets, and which records every request. The feed
 * hands out `limit` entries after the cursor; its cursor is the index as text (opaque to clients).
 */
export async function startFakeLatchkey(t: Test, apiKey = 'feed-key') {
  const keys: JWK[] = []
  const feed: Revocation[] = []
  const requests: { path: string; query: URLSearchParams; authorization?: string }[] = []
  /** When set, the next answers of the feed are this status (a feed that is down). */
  const state = { feedStatus: 200, jwksStatus: 200, feedBody: undefined as unknown }

  const server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    requests.push({
      path: url.pathname,
      query: url.searchParams,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    })
    const json = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body))
    }
    if (url.pathname === '/.well-known/jwks.json') {
      if (state.jwksStatus !== 200) return json(state.jwksStatus, { error: 'down' })
      return json(200, { keys })
    }
    if (url.pathname === '/v1/revocations') {
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        return json(
          401,
          {
            type: 'about:blank',
            title: 'Unauthorized',
            status: 401,
            detail: '',
            code: 'unauthorized',
          },
          'application/problem+json',
        )
      }
      if (state.feedStatus !== 200) return json(state.feedStatus, { error: 'down' })
      if (state.feedBody !== undefined) return json(200, state.feedBody)
      const after = Number(url.searchParams.get('after') ?? '0')
      if (!Number.isSafeInteger(after)) {
        const problem = { title: 'Bad Request', status: 400, detail: '', code: 'invalid_request' }
        return json(400, { type: 'about:blank', ...problem }, 'application/problem+json')
      }
      const limit = Number(url.searchParams.get('limit') ?? '100')
      const page = feed.slice(after, after + limit)
      return json(200, { revocations: page, cursor: String(after + page.length) })
    }
    json(404, { code: 'not_found' }, 'application/problem+json')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    base,
    apiKey,
    keys,
    feed,
    requests,
    state,
    /** Requests to a path so far. */
    count: (path: string) => requests.filter((r) => r.path === path).length,
  }
}

export interface SessionJwtOptions {
  issuer: string
  audience: string
  key: SigningKey
  /** Seconds since the epoch. */
  iat: number
  ttl?: number
  claims?: Record<string, unknown>
  header?: Record<string, unknown>
}

/** A session JWT as latchkey signs it, with anything a test wants changed. */
export function sessionJwt(options: SessionJwtOptions): Promise<string> {
  const { key, iat, ttl = 900 } = options
  return new SignJWT({
    sub: randomUUID(),
    client_id: 'backend',
    sid: randomUUID(),
    email: 'ada@example.com',
    rev: 0,
    jti: randomUUID(),
    ...options.claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(key.privateKey)
}
