import { DeliveryFailure } from '../mail/mailer.js'
import type { OutboxMessage } from '../store/outbox.js'
import type { Delivery, Job, JobHandlers, OutboxDeps, Outcome } from './jobs.js'

export interface WorkerLogger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

export interface OutboxOptions {
  /** How long a claimed message is held before another worker may take it over. */
  leaseMs: number
  batchSize: number
  /** How often the queue is looked at when nothing rang the bell (other instances, retries). */
  pollMs: number
  baseDelayMs: number
  maxDelayMs: number
  /** Finished messages older than this are deleted. */
  retentionMs: number
  random: () => number
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = {
  leaseMs: 60_000,
  batchSize: 20,
  pollMs: 1_000,
  baseDelayMs: 2_000,
  maxDelayMs: 5 * 60_000,
  retentionMs: 30 * 24 * 3600_000,
  random: Math.random,
}

/**
 * A handler, whichever kind it is for: the worker hands each handler its own kind's rows only.
 * (Method syntax on purpose: every kind's handler is one of these.)
 */
interface SomeHandler {
  build(job: Job): Promise<Outcome>
  deliver(delivery: Delivery, idempotencyKey: string): Promise<{ providerId?: string | undefined }>
}

/**
 * Does what the outbox holds, whatever the kind: claims due rows with a lease, has each built by
 * its kind's handler, delivers it, and records the outcome. Each row is delivered with its id as
 * the idempotency key, so a retry after a lost answer (a timeout, a crash between delivery and
 * bookkeeping) is recognised by the receiver and does nothing twice. Transient failures are
 * retried with exponential backoff and jitter, honouring Retry-After; permanent ones are recorded
 * and dropped.
 */
export class OutboxWorker {
  readonly #deps: OutboxDeps
  readonly #handlers: Readonly<Record<string, SomeHandler>>
  readonly #log: WorkerLogger
  readonly #options: OutboxOptions
  #running: Promise<number> | undefined
  #again = false
  #timer: NodeJS.Timeout | undefined
  #lastPrune = 0

  constructor(
    deps: OutboxDeps,
    handlers: JobHandlers,
    log: WorkerLogger,
    options: Partial<OutboxOptions> = {},
  ) {
    this.#deps = deps
    this.#handlers = handlers
    this.#log = log
    this.#options = { ...DEFAULT_OUTBOX_OPTIONS, ...options }
    // A message the use cases put in the outbox rings the bell: wake and send it.
    deps.outboxBell.listen(() => this.wake())
  }

  /** Sends every message due now. Never runs twice at once: a call during a run joins it. */
  runOnce(): Promise<number> {
    if (this.#running) {
      this.#again = true
      return this.#running
    }
    this.#running = this.#drain().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  /** Polls in the background; `wake` sends without waiting for the next poll. */
  start(): void {
    if (this.#timer) return
    const tick = () => {
      this.runOnce().catch((err: unknown) => this.#log.error({ err }, 'outbox run failed'))
    }
    this.#timer = setInterval(tick, this.#options.pollMs)
    this.#timer.unref()
    tick()
  }

  wake(): void {
    if (!this.#timer) return
    setImmediate(() => {
      this.runOnce().catch((err: unknown) => this.#log.error({ err }, 'outbox run failed'))
    })
  }

  /** Stops polling and waits for a send in progress, so shutdown loses nothing. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running?.catch(() => undefined)
  }

  /**
   * What a claimed row becomes, as its kind's handler decides it now: something to deliver, or
   * why not. Rejects for a kind without a handler.
   */
  async build(message: OutboxMessage): Promise<Outcome> {
    return this.#handlerFor(message).build(message as Job)
  }

  #handlerFor(message: OutboxMessage): SomeHandler {
    const handler = Object.hasOwn(this.#handlers, message.kind)
      ? this.#handlers[message.kind]
      : undefined
    if (!handler) throw new TypeError(`no handler for outbox jobs of kind ${message.kind}`)
    return handler
  }

  async #drain(): Promise<number> {
    let handled = 0
    do {
      this.#again = false
      for (;;) {
        const now = this.#deps.clock()
        const batch = await this.#deps.store.claimDue(
          now,
          this.#options.leaseMs,
          this.#options.batchSize,
        )
        for (const message of batch) await this.#deliver(message)
        handled += batch.length
        if (batch.length < this.#options.batchSize) break
      }
    } while (this.#again)
    await this.#prune()
    return handled
  }

  async #deliver(message: OutboxMessage): Promise<void> {
    const { store, clock } = this.#deps
    const fields = { outboxId: message.id, attempt: message.attempts }
    let outcome: Outcome
    try {
      outcome = await this.build(message)
    } catch (err) {
      this.#log.error({ ...fields, err }, 'outbox message cannot be built')
      await store.markFailed(message.id, 'the message could not be built', clock())
      return
    }
    if ('suppress' in outcome) {
      this.#log.info({ ...fields, reason: outcome.suppress }, 'outbox message suppressed')
      await store.markSuppressed(message.id, outcome.suppress, clock())
      return
    }
    if ('drop' in outcome) {
      this.#log.info({ ...fields, reason: outcome.drop }, 'outbox message dropped')
      await store.markFailed(message.id, outcome.drop, clock())
      return
    }
    // Logged by kind: "email sent", "email will be retried" …
    const what = message.kind
    try {
      const { providerId } = await this.#handlerFor(message).deliver(
        outcome.send,
        `latchkey-outbox-${message.id}`,
      )
      await store.markSent(message.id, clock(), providerId ?? null)
      this.#log.info(fields, `${what} sent`)
    } catch (err) {
      const failure = err instanceof DeliveryFailure ? err : undefined
      if (failure?.options.permanent) {
        this.#log.warn({ ...fields, status: failure.options.status }, `${what} refused by provider`)
        await store.markFailed(message.id, failure.message, clock())
        return
      }
      const next = clock() + this.#delay(message.attempts, failure?.options.retryAfterSeconds)
      if (!failure) this.#log.error({ ...fields, err }, `${what} send crashed; will retry`)
      else this.#log.warn({ ...fields, status: failure.options.status }, `${what} will be retried`)
      await store.markRetry(message.id, next, failure?.message ?? 'unexpected error')
    }
  }

  /** Exponential backoff with jitter (half fixed, half random); never sooner than Retry-After. */
  #delay(attempts: number, retryAfterSeconds: number | undefined): number {
    const { baseDelayMs, maxDelayMs, random } = this.#options
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempts - 1))
    const jittered = ceiling / 2 + random() * (ceiling / 2)
    return Math.round(Math.max(jittered, (retryAfterSeconds ?? 0) * 1000))
  }

  /** Deletes finished rows past their retention, at most hourly. */
  async #prune(): Promise<void> {
    const now = this.#deps.clock()
    if (now - this.#lastPrune < 3600_000) return
    this.#lastPrune = now
    const removed = await this.#deps.store.pruneOutbox(now - this.#options.retentionMs)
    if (removed > 0) this.#log.info({ removed }, 'old outbox messages deleted')
  }
}
