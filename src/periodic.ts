import type { Clock } from './clock.js'

export interface PeriodicOptions {
  /** How often the task runs, by the injected clock. */
  everyMs: number
  /** How often, in real time, the clock is looked at once started. */
  checkMs: number
}

/**
 * A task run at most once per `everyMs` by the injected clock: the first look runs it, and a
 * test moves the clock rather than wait. Started and stopped by whoever builds it (app.ts).
 */
export class Periodic {
  readonly #task: () => Promise<void>
  readonly #clock: Clock
  readonly #onError: (err: unknown) => void
  readonly #options: PeriodicOptions
  #last = Number.NEGATIVE_INFINITY
  #running: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(
    task: () => Promise<void>,
    clock: Clock,
    onError: (err: unknown) => void,
    options: PeriodicOptions,
  ) {
    this.#task = task
    this.#clock = clock
    this.#onError = onError
    this.#options = options
  }

  /** Runs the task if it is due. Never runs twice at once: a call during a run joins it. */
  runDue(): Promise<void> {
    this.#running ??= this.#runDue().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  /** Looks at the clock now and every `checkMs` in the background. */
  start(): void {
    if (this.#timer) return
    const tick = () => {
      this.runDue().catch(this.#onError)
    }
    this.#timer = setInterval(tick, this.#options.checkMs)
    this.#timer.unref()
    tick()
  }

  /** Stops looking and waits for a run in progress, so shutdown cuts none short. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running?.catch(() => undefined)
  }

  async #runDue(): Promise<void> {
    const now = this.#clock()
    if (now - this.#last < this.#options.everyMs) return
    this.#last = now
    await this.#task()
  }
}
