import fc from 'fast-check'
import t from 'tap'
import { asService, build } from '../helpers/app.js'

// Issue 9, item 15: a caller's X-Request-Id is kept when it is safe, a UUID is made otherwise;
// either way it is on the answer and on every log line of the request.

const harness = await build(t)
const { app, logs } = harness

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const health = (headers: Record<string, string | string[]> = {}) =>
  app.inject({ method: 'GET', url: '/healthz', headers })

t.test('a safe X-Request-Id is kept and echoed', async (t) => {
  for (const id of [
    'abc-123',
    '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    '01J9Z3K4M5N6P7Q8R9S0T1V2W3',
    'Root=1-67891233-abcdef012345678912345678',
    'a'.repeat(128),
    'svc.billing:42/7+x=',
  ]) {
    t.equal((await health({ 'x-request-id': id })).headers['x-request-id'], id, id)
  }
})

t.test('a hostile or odd X-Request-Id is replaced by a new UUID', async (t) => {
  for (const id of [
    'a\r\nset-cookie: x=1',
    'a\nb',
    'a'.repeat(129),
    'x'.repeat(1000),
    'caf\u00e9',
    '\u202eevil',
    'two words',
    '<script>',
    'a;b',
    '',
  ]) {
    const res = await health({ 'x-request-id': id })
    t.match(res.headers['x-request-id'], UUID, JSON.stringify(id.slice(0, 20)))
  }
  const twice = await health({ 'x-request-id': ['a', 'b'] })
  t.match(twice.headers['x-request-id'], UUID, 'two headers are not one id')
})

t.test('property: the id on the answer is the caller’s exactly when it is safe', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 140 }), async (id) => {
      const res = await health({ 'x-request-id': id })
      const safe = /^[A-Za-z0-9._:=+/-]{1,128}$/.test(id)
      const echoed = res.headers['x-request-id']
      return safe ? echoed === id : typeof echoed === 'string' && UUID.test(echoed)
    }),
    { numRuns: 200 },
  )
  t.pass('held')
})

t.test('without one, every request gets its own UUID', async (t) => {
  const ids = new Set<string>()
  for (let i = 0; i < 20; i++) ids.add((await health()).headers['x-request-id'] as string)
  t.equal(ids.size, 20)
  for (const id of ids) t.match(id, UUID)
})

t.test('every kind of answer carries it', async (t) => {
  const answers = {
    '200': await health(),
    '202': await app.inject({
      method: 'POST',
      url: '/v1/links',
      headers: asService,
      payload: { email: 'rid@example.com', deliver: 'none' },
    }),
    '400 bad JSON': await app.inject({
      method: 'POST',
      url: '/v1/links',
      headers: { ...asService, 'content-type': 'application/json' },
      payload: '{',
    }),
    '400 bad URL': await app.inject({ method: 'GET', url: '/v1/admin/users/%zz' }),
    '401': await app.inject({ method: 'GET', url: '/v1/admin/users' }),
    '404': await app.inject({ method: 'GET', url: '/nope' }),
    '405': await app.inject({ method: 'DELETE', url: '/login' }),
    '413': await app.inject({
      method: 'POST',
      url: '/v1/links',
      headers: asService,
      payload: { email: 'big@example.com', scope: 'x'.repeat(20_000) },
    }),
    page: await app.inject({ method: 'GET', url: '/login' }),
  }
  for (const [name, res] of Object.entries(answers)) {
    t.match(res.headers['x-request-id'], UUID, `${name} (${res.statusCode})`)
  }
})

t.test('every log line of a request carries its id', async (t) => {
  const id = 'trace-me-0123456789'
  logs.length = 0
  const res = await app.inject({
    method: 'POST',
    url: '/v1/links',
    headers: { ...asService, 'x-request-id': id },
    payload: { email: 'logged-rid@example.com', deliver: 'none' },
  })
  t.equal(res.statusCode, 202)
  const lines = logs.flatMap((l) => l.split('\n').filter(Boolean)).map((l) => JSON.parse(l))
  const mine = lines.filter((l) => l.req !== undefined || l.res !== undefined)
  t.ok(mine.length >= 2, 'the request and its completion are logged')
  for (const line of mine) t.equal(line.reqId, id, line.msg)

  const hostile = 'x\r\ninjected'
  logs.length = 0
  await health({ 'x-request-id': hostile })
  t.notOk(logs.join('').includes('injected'), 'a refused id never reaches the log')
})
