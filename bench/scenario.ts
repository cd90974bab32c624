import type autocannon from 'autocannon'
import type { Server } from './children.js'

/** One row of the table: a warm-up and then a timed run against one route. */
export interface Scenario {
  name: string
  /** The server the requests go to; its process's CPU time is read around the timed run. */
  server: Server
  path: string
  /** The request's headers: a backend's API key, and JSON bodies. */
  headers: Record<string, string>
  /**
   * The status every answer should have: 2xx when unset. A scenario that expects an error (a
   * forged token's 401) does not count those answers as errors; its onResponse checks their body.
   */
  expectStatus?: number
  /**
   * Runs before the warm-up and again before the timed run, outside the timing: makes what the
   * run is about to consume (sessions), so no run inherits the state a cut-off one left behind.
   */
  prepare?: () => Promise<void>
  setupRequest: (request: autocannon.Request, context: object) => autocannon.Request
  onResponse?: (status: number, body: string, context: object) => void
  /** What onResponse found wrong since the last call, which it then forgets. */
  takeFaults?: () => Faults
}

export interface Faults {
  /**
   * Answers that are not what was asked for (an inactive introspection; a forged token's answer
   * that is not a 401 token_invalid): errors too.
   */
  wrong: number
  /** Every problem, named, the wrong answers included. */
  lines: string[]
}

/** Counts problems by kind for a scenario's takeFaults. */
export class FaultTally {
  #wrong = new Map<string, number>()
  #other = new Map<string, number>()

  /** An answer with the expected status that is still wrong, or one with another status. */
  wrong(kind: string): void {
    this.#wrong.set(kind, (this.#wrong.get(kind) ?? 0) + 1)
  }

  /** Anything else worth naming; the request itself failed and autocannon counted it. */
  other(kind: string): void {
    this.#other.set(kind, (this.#other.get(kind) ?? 0) + 1)
  }

  take(): Faults {
    const lines = [...this.#wrong, ...this.#other].map(([kind, n]) => `${n} × ${kind}`)
    const wrong = [...this.#wrong.values()].reduce((sum, n) => sum + n, 0)
    this.#wrong.clear()
    this.#other.clear()
    return { wrong, lines }
  }
}
