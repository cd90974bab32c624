import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import t from 'tap'
import { Metrics } from '../../src/metrics/index.js'
import type { ProbeSources } from '../../src/metrics/probes.js'
import { parseScrape, sampleValue } from '../helpers/metrics.js'
import { ROOT } from '../helpers/process.js'

const T0 = 1_700_000_000_000

/** Probe sources over a fake store that counts its queries. */
function sources(overrides: Partial<ProbeSources> = {}) {
  const calls = { ping: 0, backlog: 0 }
  const probe: ProbeSources = {
    store: {
      ping: async () => {
        calls.ping++
      },
      outboxBacklog: async () => {
        calls.backlog++
        return [{ kind: 'webhook', pending: 4, oldestCreatedAt: T0 - 90_000 }]
      },
    },
    sharedCountersUp: () => undefined,
    clock: () => T0,
    jobKinds: ['email', 'webhook'],
    ...overrides,
  }
  return { probe, calls }
}

t.test('one backlog query per scrape feeds both outbox gauges; known kinds read 0', async (t) => {
  const { probe, calls } = sources()
  const metrics = new Metrics(probe)
  const samples = parseScrape(await metrics.scrape())
  t.equal(calls.backlog, 1, 'the two gauges shared one query')
  t.equal(calls.ping, 1)
  t.equal(sampleValue(samples, 'latchkey_outbox_pending', { kind: 'webhook' }), 4)
  t.equal(sampleValue(samples, 'latchkey_outbox_pending', { kind: 'email' }), 0)
  t.equal(
    sampleValue(samples, 'latchkey_outbox_oldest_pending_age_seconds', { kind: 'webhook' }),
    90,
  )
  await metrics.scrape()
  t.equal(calls.backlog, 2, 'and a fresh one at the next scrape')
})

t.test('Redis up follows the limits, read at each scrape', async (t) => {
  let up = true
  const metrics = new Metrics(sources({ sharedCountersUp: () => up }).probe)
  t.equal(sampleValue(parseScrape(await metrics.scrape()), 'latchkey_redis_up'), 1)
  up = false
  t.equal(sampleValue(parseScrape(await metrics.scrape()), 'latchkey_redis_up'), 0)
})

t.test('the observer counts only what happened: nothing ended is no series', async (t) => {
  const metrics = new Metrics(sources().probe)
  metrics.observer.sessionsEnded('revoked', 0)
  metrics.observer.sessionsEnded('disabled', 3)
  metrics.observer.delivered('email', 'sent')
  const samples = parseScrape(await metrics.scrape())
  t.equal(sampleValue(samples, 'latchkey_sessions_ended_total', { reason: 'revoked' }), undefined)
  t.equal(sampleValue(samples, 'latchkey_sessions_ended_total', { reason: 'disabled' }), 3)
  t.equal(
    sampleValue(samples, 'latchkey_outbox_deliveries_total', { kind: 'email', state: 'sent' }),
    1,
  )
})

t.test('only src/metrics imports prom-client', async (t) => {
  const src = join(ROOT, 'src')
  const importers = (readdirSync(src, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .filter((file) => /from 'prom-client'/.test(readFileSync(join(src, file), 'utf8')))
    .map((file) => relative(src, join(src, file)))
  t.ok(importers.length > 0)
  for (const file of importers) t.match(file, /^metrics\//, file)
})
