/**
 * The soak's figures, window by window (a minute unless told), and its verdict: memory and
 * event-loop delay flat (the last window at most 10% above the second: the first is the
 * warm-up), no 5xx, no errors. Flat means not growing: a last window below the second is the
 * machine's other load going away, which the table shows and the verdict does not count against
 * the service.
 */

import type { Sample } from './children.js'
import { percentile } from './load.js'

/** How far above the second window the last may be. */
export const FLAT_TOLERANCE = 0.1
/**
 * Event-loop delay differences below this are not judged: the monitor's timer fires every 10 ms,
 * and on a shared machine its p99 moves by a fraction of a millisecond with nothing changed.
 */
export const LOOP_FLOOR_MS = 1

export interface Row {
  window: number
  requests: number
  reqPerSec: number
  p99Ms: number
  rssMiB: number
  heapMiB: number
  loopP50Ms: number
  loopP99Ms: number
  fiveXx: number
  errors: number
}

interface Bucket {
  latencies: number[]
  fiveXx: number
  errors: number
}

/** Answers and errors of the run, counted in the window they came in. */
export class Windows {
  readonly #buckets: Bucket[]
  readonly #startedAt: number

  constructor(
    readonly count: number,
    readonly windowMs: number,
    startedAt = performance.now(),
  ) {
    this.#startedAt = startedAt
    this.#buckets = Array.from({ length: count }, () => ({ latencies: [], fiveXx: 0, errors: 0 }))
  }

  /** The window of now; an answer that comes before the first or after the last counts in it. */
  #bucket(): Bucket | undefined {
    const index = Math.floor((performance.now() - this.#startedAt) / this.windowMs)
    return this.#buckets[Math.min(this.count - 1, Math.max(0, index))]
  }

  response(status: number, latencyMs: number): void {
    const bucket = this.#bucket()
    if (!bucket) return
    bucket.latencies.push(latencyMs)
    if (status >= 500) bucket.fiveXx++
  }

  /** A request that failed (no answer), or an answer that was not the expected one. */
  error(): void {
    const bucket = this.#bucket()
    if (bucket) bucket.errors++
  }

  rows(samples: readonly Sample[]): Row[] {
    return this.#buckets.map((bucket, i) => {
      const from = this.#startedAt + i * this.windowMs
      // A sample covers the time before it arrived: it belongs to the window it ends in.
      const mine = samples.filter(
        (s) => s.receivedAt > from && s.receivedAt <= from + this.windowMs,
      )
      const sorted = Float64Array.from(bucket.latencies).sort()
      return {
        window: i + 1,
        requests: sorted.length,
        reqPerSec: sorted.length / (this.windowMs / 1000),
        p99Ms: percentile(sorted, 99),
        rssMiB: mean(mine.map((s) => s.rssBytes)) / 1024 / 1024,
        heapMiB: mean(mine.map((s) => s.heapUsedBytes)) / 1024 / 1024,
        // The median of the samples' percentiles: one sample disturbed by a neighbour on the
        // machine does not move the window.
        loopP50Ms: median(mine.map((s) => s.loop.p50)),
        loopP99Ms: median(mine.map((s) => s.loop.p99)),
        fiveXx: bucket.fiveXx,
        errors: bucket.errors,
      }
    })
  }
}

export function table(rows: readonly Row[], windowSeconds: number): string[] {
  const unit = windowSeconds === 60 ? 'minute' : `${windowSeconds} s`
  const header = [
    unit,
    'req/s',
    'p99 ms',
    'RSS MiB',
    'heap MiB',
    'loop p50',
    'loop p99',
    '5xx',
    'errors',
  ]
  const lines = rows.map((r) =>
    [
      String(r.window),
      r.reqPerSec.toFixed(0),
      r.p99Ms.toFixed(1),
      r.rssMiB.toFixed(1),
      r.heapMiB.toFixed(1),
      r.loopP50Ms.toFixed(2),
      r.loopP99Ms.toFixed(2),
      String(r.fiveXx),
      String(r.errors),
    ].map((cell) => cell.padStart(9)),
  )
  return [
    `| ${header.map((h) => h.padStart(9)).join(' | ')} |`,
    `|${header.map(() => '-'.repeat(10)).join('|')}-|`,
    ...lines.map((cells) => `| ${cells.join(' | ')} |`),
  ]
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}

/**
 * What the run must show. Flatness needs three windows at least (the first is the warm-up, the
 * second the reference); a shorter run reports it as not judged.
 */
export function verdict(rows: readonly Row[], extra: { fiveXx: number; errors: number }): Check[] {
  const fiveXx = rows.reduce((n, r) => n + r.fiveXx, 0) + extra.fiveXx
  const errors = rows.reduce((n, r) => n + r.errors, 0) + extra.errors
  const checks: Check[] = [
    { name: '5xx', ok: fiveXx === 0, detail: `${fiveXx}` },
    { name: 'errors', ok: errors === 0, detail: `${errors}` },
  ]
  const second = rows[1]
  const last = rows.at(-1)
  if (rows.length < 3 || !second || !last) {
    checks.push({ name: 'flat', ok: true, detail: 'not judged: fewer than three windows' })
    return checks
  }
  const within = (last: number, reference: number, floor = 0) =>
    last - reference <= Math.max(FLAT_TOLERANCE * reference, floor)
  const change = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(1)}%`
  checks.push({
    name: 'RSS flat',
    ok: within(last.rssMiB, second.rssMiB),
    detail: `${second.rssMiB.toFixed(1)} → ${last.rssMiB.toFixed(1)} MiB (${change(last.rssMiB, second.rssMiB)})`,
  })
  checks.push({
    name: 'event-loop delay flat',
    ok: within(last.loopP99Ms, second.loopP99Ms, LOOP_FLOOR_MS),
    detail:
      `p99 ${second.loopP99Ms.toFixed(2)} → ${last.loopP99Ms.toFixed(2)} ms ` +
      `(${change(last.loopP99Ms, second.loopP99Ms)}; differences under ${LOOP_FLOOR_MS} ms are noise)`,
  })
  return checks
}

function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
