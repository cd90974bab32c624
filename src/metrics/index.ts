import { collectDefaultMetrics, Registry } from 'prom-client'
import { PrometheusObserver } from './observer.js'
import { type ProbeSources, registerProbes } from './probes.js'
import { RequestMetrics } from './requests.js'

export type { AnsweredRequest } from './requests.js'
export { UNMATCHED_ROUTE } from './requests.js'

/**
 * The process's own metrics (CPU, memory, event loop lag, GC, handles), in a registry of their
 * own made once per process: they describe the process, not an app, and collecting them starts a
 * GC observer and an event-loop monitor that nothing can stop (neither keeps the process alive).
 * Per app, a test process that builds dozens of apps would keep dozens of each running.
 */
let processRegistry: Registry | undefined
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/**
 * Everything `GET /metrics` shows, for one app: the use cases' counters (the Observer port), the
 * HTTP layer's request metrics and the scrape-time probes, in a registry of the app's own (never
 * prom-client's global one), so several apps in one process each count their own; then the
 * process's metrics. The only part of latchkey that imports prom-client.
 */
export class Metrics {
  readonly #registry = new Registry()
  // Made with the first app rather than at its first scrape, so that scrape already has the
  // event loop's lag since the start to show.
  readonly #process = processMetrics()
  readonly observer: PrometheusObserver
  readonly requests: RequestMetrics
  /** The exposition format's media type (text/plain; version=0.0.4). */
  readonly contentType = this.#registry.contentType

  constructor(sources: ProbeSources) {
    this.observer = new PrometheusObserver(this.#registry)
    this.requests = new RequestMetrics(this.#registry)
    registerProbes(this.#registry, sources)
  }

  /** The exposition text: this app's metrics, then the process's. */
  async scrape(): Promise<string> {
    const [app, process] = await Promise.all([this.#registry.metrics(), this.#process.metrics()])
    return `${app.trimEnd()}\n\n${process}`
  }
}
