import { Gauge, type Registry } from 'prom-client'
import type { Clock } from '../clock.js'
import type { Store } from '../store/index.js'
import type { OutboxBacklog } from '../store/outbox.js'

/** What the scrape-time gauges look at. */
export interface ProbeSources {
  store: Pick<Store, 'ping' | 'outboxBacklog'>
  /** Whether the rate-limit counters are in Redis now; undefined without Redis (no gauge). */
  sharedCountersUp: () => boolean | undefined
  clock: Clock
  /** The outbox's job kinds: each has a depth, 0 when nothing is pending. */
  jobKinds: readonly string[]
}

/**
 * Gauges read when Prometheus scrapes, not kept up to date in between: the outbox backlog per
 * kind (depth and age of the oldest pending row, one aggregate query), whether the database
 * answers and whether Redis does. A database that fails the scrape's query reads as down, with no
 * backlog, rather than failing the scrape: an alert needs the scrape to keep answering.
 */
export function registerProbes(registry: Registry, sources: ProbeSources): void {
  const registers = [registry]
  const backlog = sharedPerScrape(() => sources.store.outboxBacklog())

  new Gauge({
    name: 'latchkey_database_up',
    help: 'Whether the database answered at this scrape (1) or not (0).',
    registers,
    async collect() {
      const up = await sources.store.ping().then(
        () => 1,
        () => 0,
      )
      this.set(up)
    },
  })

  new Gauge({
    name: 'latchkey_outbox_pending',
    help: 'Outbox messages waiting to be delivered (new, leased or awaiting a retry), by job kind.',
    labelNames: ['kind'],
    registers,
    async collect() {
      this.reset()
      const rows = await backlog()
      if (rows === undefined) return
      for (const kind of sources.jobKinds) this.set({ kind }, 0)
      for (const row of rows) this.set({ kind: row.kind }, row.pending)
    },
  })

  new Gauge({
    name: 'latchkey_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest outbox message still waiting to be delivered, by job kind (0: none).',
    labelNames: ['kind'],
    registers,
    async collect() {
      this.reset()
      const rows = await backlog()
      if (rows === undefined) return
      const now = sources.clock()
      for (const kind of sources.jobKinds) this.set({ kind }, 0)
      for (const row of rows) {
        this.set({ kind: row.kind }, Math.max(0, (now - row.oldestCreatedAt) / 1000))
      }
    },
  })

  // Registered only with Redis configured: a gauge that is always 0 would page someone.
  if (sources.sharedCountersUp() !== undefined) {
    new Gauge({
      name: 'latchkey_redis_up',
      help: 'Whether the rate-limit counters are in Redis (1) or fall back to this process (0).',
      registers,
      collect() {
        this.set(sources.sharedCountersUp() ? 1 : 0)
      },
    })
  }
}

/**
 * The two backlog gauges are collected concurrently in one scrape: they share one query, and a
 * failed one reads as no data (undefined).
 */
function sharedPerScrape(
  query: () => Promise<OutboxBacklog[]>,
): () => Promise<OutboxBacklog[] | undefined> {
  let inFlight: Promise<OutboxBacklog[] | undefined> | undefined
  return () => {
    inFlight ??= query()
      .catch(() => undefined)
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }
}
