import { DeliveryFailure } from '../mail/mailer.js'
import type { OutboxMessage } from '../store/outbox.js'
import type { Delivery, Job, JobHandlers, JobKind, JobPolicy, OutboxDeps, Outcome } from './jobs.js'
import type { DeliveryState } from './observer.js'

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
  /**
   * The kinds this worker sends, every kind when unset: a command that sends the one email it
   * queued need not wait on a webhook receiver.
   */
  kinds?: readonly JobKind[] | undefined
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
  readonly policy?: JobPolicy
  build(job: Job): Promise<Outcome>
  deliver(
    delivery: Delivery,
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<{ providerId?: string | undefined }>
}

/** One kind's queue within the outbox, paced by its own policy. */
interface Lane {
  readonly kind: string
  readonly handler: SomeHandler
  readonly policy: Required<Omit<JobPolicy, 'giveUpAfterMs'>> & JobPolicy
  running: Promise<number> | undefined
  /** Rung while running: look again once this run is done. */
  again: boolean
}

/**
 * Does what the outbox holds, whatever the kind: claims due rows with a lease, has each built by
 * its kind's handler, delivers it, and records the outcome. Each row is delivered with its id as
 * the idempotency key (a webhook carries its event's id instead), so a retry after a lost answer (a timeout, a crash between delivery and
 * bookkeeping) is recognised by the receiver and does nothing twice. Transient failures are
 * retried with exponential backoff and jitter, honouring Retry-After; permanent ones are recorded
 * and dropped.
 *
 * Each kind has a lane of its own, which claims only its kind's rows and runs on its own: a
 * webhook receiver that hangs until its timeout, or a backlog of them, never holds up an email
 * (nor the other way round). A lane claims its kind's `batchSize` rows at a time and delivers up
 * to `concurrency` of them at once; webhooks claim no more than they start at once, so no lease
 * runs out while its row waits behind a slow receiver. A row of a kind this version has no handler for is never
 * claimed: during a rolling upgrade, an instance of the version that queued it sends it.
 */
export class OutboxWorker {
  readonly #deps: OutboxDeps
  readonly #lanes: Lane[]
  readonly #lanesByKind: ReadonlyMap<string, Lane>
  readonly #log: WorkerLogger
  readonly #options: OutboxOptions
  #stopping = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #lastPrune = 0
  #pruning: Promise<void> | undefined

  constructor(
    deps: OutboxDeps,
    handlers: JobHandlers,
    log: WorkerLogger,
    options: Partial<OutboxOptions> = {},
  ) {
    this.#deps = deps
    this.#log = log
    this.#options = { ...DEFAULT_OUTBOX_OPTIONS, ...options }
    const { batchSize, baseDelayMs, maxDelayMs, kinds } = this.#options
    this.#lanes = Object.entries(handlers as Record<string, SomeHandler>)
      .filter(([kind]) => kinds === undefined || kinds.includes(kind as JobKind))
      .map(([kind, handler]) => ({
        kind,
        handler,
        policy: { batchSize, concurrency: 1, baseDelayMs, maxDelayMs, ...handler.policy },
        running: undefined,
        again: false,
      }))
    this.#lanesByKind = new Map(this.#lanes.map((lane) => [lane.kind, lane]))
    // A message the use cases put in the outbox rings the bell: wake and send it.
    deps.outboxBell.listen(() => this.wake())
  }

  /**
   * Sends every message due now, of every kind; resolves to how many were handled. A lane never
   * runs twice at once: a call while one runs joins it (and has it look again when done).
   */
  async runOnce(): Promise<number> {
    const handled = await Promise.all(this.#lanes.map((lane) => this.#run(lane)))
    await this.#prune()
    return handled.reduce((a, b) => a + b, 0)
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

  /**
   * Stops polling and waits for the sends in progress, so shutdown loses nothing. A send that
   * can be cut short (a webhook) is, and is retried later: it owes the receiver nothing, and a
   * receiver that hangs must not hold up a shutdown for its timeout.
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    // Sends in progress hold this signal; whatever runs after the stop gets a fresh one.
    const stopping = this.#stopping
    this.#stopping = new AbortController()
    stopping.abort()
    await Promise.all(this.#lanes.map((lane) => lane.running?.catch(() => undefined)))
    await this.#pruning?.catch(() => undefined)
  }

  /**
   * What a claimed row becomes, as its kind's handler decides it now: something to deliver, or
   * why not. Rejects for a kind without a handler.
   */
  async build(message: OutboxMessage): Promise<Outcome> {
    return this.#laneFor(message).handler.build(message as Job)
  }

  #laneFor(message: OutboxMessage): Lane {
    const lane = this.#lanesByKind.get(message.kind)
    if (!lane) throw new TypeError(`no handler for outbox jobs of kind ${message.kind}`)
    return lane
  }

  #run(lane: Lane): Promise<number> {
    if (lane.running) {
      lane.again = true
      return lane.running
    }
    lane.running = this.#drain(lane).finally(() => {
      lane.running = undefined
    })
    return lane.running
  }

  async #drain(lane: Lane): Promise<number> {
    const { batchSize, concurrency } = lane.policy
    // This run's signal: a stop aborts it, and the run then claims nothing more, and what it
    // still starts is cut short too (a fresh signal would let it wait for a hung receiver).
    const signal = this.#stopping.signal
    let handled = 0
    do {
      lane.again = false
      while (!signal.aborted) {
        const now = this.#deps.clock()
        const batch = await this.#deps.store.claimDue(
          now,
          this.#options.leaseMs,
          batchSize,
          lane.kind,
        )
        await inParallel(batch, concurrency, (message) => this.#deliver(lane, message, signal))
        handled += batch.length
        if (batch.length < batchSize) break
      }
    } while (lane.again && !signal.aborted)
    return handled
  }

  async #deliver(lane: Lane, message: OutboxMessage, signal: AbortSignal): Promise<void> {
    const { store, clock, observer } = this.#deps
    const counted = (state: DeliveryState) => observer.delivered(message.kind, state)
    const fields = { outboxId: message.id, attempt: message.attempts }
    let outcome: Outcome
    try {
      outcome = await this.build(message)
    } catch (err) {
      this.#log.error({ ...fields, err }, 'outbox message cannot be built')
      await store.markFailed(message.id, 'the message could not be built', clock())
      counted('failed')
      return
    }
    if ('suppress' in outcome) {
      this.#log.info({ ...fields, reason: outcome.suppress }, 'outbox message suppressed')
      await store.markSuppressed(message.id, outcome.suppress, clock())
      counted('suppressed')
      return
    }
    if ('drop' in outcome) {
      this.#log.info({ ...fields, reason: outcome.drop }, 'outbox message dropped')
      await store.markFailed(message.id, outcome.drop, clock())
      counted('failed')
      return
    }
    // Logged by kind: "email sent", "webhook will be retried" …
    const what = message.kind
    try {
      const { providerId } = await lane.handler.deliver(
        outcome.send,
        `latchkey-outbox-${message.id}`,
        signal,
      )
      await store.markSent(message.id, clock(), providerId ?? null)
      counted('sent')
      this.#log.info(fields, `${what} sent`)
    } catch (err) {
      const failure = err instanceof DeliveryFailure ? err : undefined
      const status = failure?.options.status
      if (failure?.options.permanent) {
        this.#log.warn({ ...fields, status }, `${what} refused by provider`)
        await store.markFailed(message.id, failure.message, clock())
        counted('failed')
        return
      }
      const error = failure?.message ?? 'unexpected error'
      const next = clock() + this.#delay(lane, message.attempts, failure?.options.retryAfterSeconds)
      const { giveUpAfterMs } = lane.policy
      if (giveUpAfterMs !== undefined && next > message.createdAt + giveUpAfterMs) {
        this.#log.warn({ ...fields, status }, `${what} given up`)
        const reason = `given up after ${message.attempts} attempts: ${error}`
        await store.markFailed(message.id, reason, clock())
        counted('failed')
        return
      }
      if (!failure) this.#log.error({ ...fields, err }, `${what} send crashed; will retry`)
      else this.#log.warn({ ...fields, status }, `${what} will be retried`)
      await store.markRetry(message.id, next, error)
      counted('retried')
    }
  }

  /** Exponential backoff with jitter (half fixed, half random); never sooner than Retry-After. */
  #delay(lane: Lane, attempts: number, retryAfterSeconds: number | undefined): number {
    const { baseDelayMs, maxDelayMs } = lane.policy
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempts - 1))
    const jittered = ceiling / 2 + this.#options.random() * (ceiling / 2)
    return Math.round(Math.max(jittered, (retryAfterSeconds ?? 0) * 1000))
  }

  /** Deletes finished rows past their retention, at most hourly. */
  async #prune(): Promise<void> {
    const now = this.#deps.clock()
    if (now - this.#lastPrune < 3600_000) return
    this.#lastPrune = now
    this.#pruning = this.#deps.store
      .pruneOutbox(now - this.#options.retentionMs)
      .then((removed) => {
        if (removed > 0) this.#log.info({ removed }, 'old outbox messages deleted')
      })
    await this.#pruning
  }
}

/**
 * Runs `work` on every item, at most `limit` at a time, in order. Settles once every item is
 * done, even when one fails (a stop waits for all of them), then rejects with the first error.
 */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const errors: unknown[] = []
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T).catch((e: unknown) => errors.push(e))
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (errors.length > 0) throw errors[0]
}
