import { Counter, Histogram, type Registry } from 'prom-client'

/** The route label of a request no route took: one value, whatever URL was asked for. */
export const UNMATCHED_ROUTE = 'unmatched'

/** One answered request: its route's pattern (never the URL), method, status and duration. */
export interface AnsweredRequest {
  /** `/v1/admin/users/:id`, or UNMATCHED_ROUTE: a raw URL would carry ids and tokens. */
  route: string
  method: string
  status: number
  seconds: number
}

/**
 * Requests and their latency per route. The counter keeps the exact status (401, 403 and 429
 * mean different things); the histogram the status class, so its series stay few.
 */
export class RequestMetrics {
  readonly #total: Counter<'method' | 'route' | 'status'>
  readonly #duration: Histogram<'method' | 'route' | 'status_class'>

  constructor(registry: Registry) {
    this.#total = new Counter({
      name: 'latchkey_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    })
    this.#duration = new Histogram({
      name: 'latchkey_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route pattern and status class.',
      labelNames: ['method', 'route', 'status_class'],
      // Verify answers in about a millisecond; a database in trouble shows in seconds.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    })
  }

  observe({ route, method, status, seconds }: AnsweredRequest): void {
    this.#total.inc({ method, route, status: String(status) })
    const statusClass = `${Math.floor(status / 100)}xx`
    this.#duration.observe({ method, route, status_class: statusClass }, seconds)
  }
}
