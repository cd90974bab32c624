import { createHash } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { ApiKeys, allows, generateApiKey, type Principal } from '../../src/auth/api-keys.js'
import type { ApiKeyConfig } from '../../src/config/index.js'

const service = generateApiKey('billing', 'service')
const admin = generateApiKey('ops', 'admin')

/** The configuration entry `name:role:hash` as loadConfig would shape it. */
function entryOf(line: string): ApiKeyConfig {
  const [name, role, hash] = line.split(':')
  return { name, role, hash } as ApiKeyConfig
}

const keys = new ApiKeys([entryOf(service.entry), entryOf(admin.entry)])

t.test('generateApiKey gives a long random key and the entry that admits it', async (t) => {
  t.match(service.key, /^lk_[A-Za-z0-9_-]{43}$/, '32 random bytes in base64url after a prefix')
  const sha = createHash('sha256').update(service.key).digest('hex')
  t.equal(service.entry, `billing:service:${sha}`)
  t.notMatch(service.entry, service.key, 'the entry never carries the key itself')

  const seen = new Set<string>()
  for (let i = 0; i < 1000; i++) seen.add(generateApiKey('k', 'service').key)
  t.equal(seen.size, 1000, 'a thousand keys are all distinct')
})

t.test('the right key authenticates as its principal', async (t) => {
  t.same(keys.authenticate(service.key), { name: 'billing', role: 'service' })
  t.same(keys.authenticate(admin.key), { name: 'ops', role: 'admin' })
})

t.test('an entry whose hash is written in upper case still admits its key', async (t) => {
  const upper = entryOf(admin.entry)
  const ring = new ApiKeys([{ ...upper, hash: upper.hash.toUpperCase() }])
  t.same(ring.authenticate(admin.key), { name: 'ops', role: 'admin' })
})

t.test('anything but a configured key is refused', async (t) => {
  const wrong = generateApiKey('billing', 'service').key
  for (const presented of [
    '',
    wrong,
    service.key.slice(0, -1),
    service.key.slice(0, 10),
    'lk_',
    `${service.key}x`,
    ` ${service.key}`,
    `${service.key}\n`,
    service.key.toUpperCase(),
    `Bearer ${service.key}`,
    createHash('sha256').update(service.key).digest('hex'),
  ]) {
    t.equal(keys.authenticate(presented), undefined, JSON.stringify(presented))
  }
})

t.test('with no keys configured nothing authenticates', async (t) => {
  t.equal(new ApiKeys([]).authenticate(service.key), undefined)
  t.equal(new ApiKeys([]).authenticate(''), undefined)
})

t.test('property: no string other than a configured key authenticates', async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (presented) => {
      fc.pre(presented !== service.key && presented !== admin.key)
      return keys.authenticate(presented) === undefined
    }),
  )
  t.pass('no other string authenticated')
})

t.test('allows: admin may do anything; service and metrics only their own', async (t) => {
  const asAdmin: Principal = { name: 'ops', role: 'admin' }
  const asService: Principal = { name: 'billing', role: 'service' }
  const asMetrics: Principal = { name: 'prometheus', role: 'metrics' }
  t.equal(allows(asAdmin, 'admin'), true)
  t.equal(allows(asAdmin, 'service'), true)
  t.equal(allows(asAdmin, 'metrics'), true)
  t.equal(allows(asService, 'service'), true)
  t.equal(allows(asService, 'admin'), false)
  t.equal(allows(asService, 'metrics'), false)
  t.equal(allows(asMetrics, 'metrics'), true)
  t.equal(allows(asMetrics, 'service'), false)
  t.equal(allows(asMetrics, 'admin'), false)
})
