import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { createClient } from '../../client/src/api.js'
import { LatchkeyError } from '../../client/src/errors.js'

// What the client does with answers latchkey itself never gives in the real-process test: a
// proxy's HTML, a 429's Retry-After, a base URL with a path, an id that is not a UUID.

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

async function serve(t: Test, handler: Handler) {
  const seen: {
    method?: string
    url?: string
    headers: IncomingMessage['headers']
    body: string
  }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body })
      handler(req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

async function failure(promise: Promise<unknown>): Promise<LatchkeyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof LatchkeyError)) throw new Error(`expected a LatchkeyError: ${error}`)
  return error
}

t.test(
  'requests: method, path under a base path, key, JSON body, query, encoded ids',
  async (t) => {
    const { base, seen } = await serve(t, (req, res) => {
      const status = req.method === 'DELETE' ? 204 : 200
      res.writeHead(status, { 'content-type': 'application/json' }).end(status === 204 ? '' : '{}')
    })
    const client = createClient({ url: `${base}/auth`, apiKey: 'k1' })
    await client.refresh('rt')
    await client.admin.listUsers({ email: 'a+b@example.com', limit: 2 })
    await client.admin.listOutbox({})
    t.equal(await client.admin.deleteUser('../x?y'), undefined)
    t.match(seen[0], {
      method: 'POST',
      url: '/auth/v1/sessions/refresh',
      headers: { authorization: 'Bearer k1', 'content-type': 'application/json' },
      body: '{"refresh_token":"rt"}',
    })
    t.equal(seen[1]?.url, '/auth/v1/admin/users?email=a%2Bb%40example.com&limit=2')
    t.equal(seen[2]?.url, '/auth/v1/admin/outbox')
    t.match(seen[3], { method: 'DELETE', url: '/auth/v1/admin/users/..%2Fx%3Fy', body: '' })
    t.equal(seen[3]?.headers['content-type'], undefined, 'no body, no content type')
  },
)

t.test('a problem: its code, status, problem and Retry-After', async (t) => {
  const { base } = await serve(t, (_req, res) => {
    const problem = {
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'slow down',
      code: 'rate_limited',
    }
    res
      .writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '42' })
      .end(JSON.stringify(problem))
  })
  const error = await failure(
    createClient({ url: base, apiKey: 'k' }).issueLink({ email: 'a@b.c' }),
  )
  t.match(error, { code: 'rate_limited', status: 429, retryAfter: 42, name: 'LatchkeyError' })
  t.equal(error.problem?.detail, 'slow down')
  t.notMatch(error.message, /lk_secret_key/, 'the message names no key')
})

t.test('what is not latchkey speaking: unexpected_response with the status', async (t) => {
  const { base } = await serve(t, (req, res) => {
    if (req.url?.includes('verify')) {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>')
      return
    }
    res.writeHead(500, { 'content-type': 'application/problem+json' }).end('not json')
  })
  const client = createClient({ url: base, apiKey: 'k' })
  t.match(await failure(client.verifyLink({ token: 't' })), {
    code: 'unexpected_response',
    status: 502,
    problem: undefined,
  })
  t.match(await failure(client.introspect('j')), { code: 'unexpected_response', status: 500 })
})

t.test('a server that never answers: the timeout, as unexpected_response 503', async (t) => {
  const { base } = await serve(t, () => {
    // never answers
  })
  const client = createClient({ url: base, apiKey: 'k', timeoutMs: 50 })
  t.match(await failure(client.jwks()), { code: 'unexpected_response', status: 503 })
})
