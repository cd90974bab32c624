import { toSeconds } from '../clock.js'
import { DeliveryFailure, type MailMessage } from '../mail/mailer.js'
import { linkMessage } from '../mail/templates/link.js'
import type { OutboxMessage } from '../store/outbox.js'
import { Flag, hasFlag, Purpose } from '../tokens/codec.js'
import type { AuthDeps } from './deps.js'
import { buildLink, type LinkPayload } from './issue-link.js'
import { checkRedirect } from './redirect.js'

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

/**
 * What becomes of a row: an email to send; suppressed, by design (nobody to send it to, or a
 * user who may not sign in); or dropped, because the link could no longer work.
 */
export type Outcome =
  | { send: MailMessage }
  | { suppress: 'unknown_address' | 'user_disabled' }
  | { drop: string }

/** The id looked up for a row without a user (an unknown address): no user has it. */
const NO_USER = '00000000-0000-0000-0000-000000000000'

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
 * Sends what the outbox holds. Each message is sent with its row id as the idempotency key, so a
 * retry after a lost answer (a timeout, a crash between send and bookkeeping) is accepted by the
 * provider without a second email. Transient failures are retried with exponential backoff and
 * jitter, honouring Retry-After; permanent ones are recorded and dropped.
 */
export class OutboxWorker {
  readonly #deps: AuthDeps
  readonly #log: WorkerLogger
  readonly #options: OutboxOptions
  #running: Promise<number> | undefined
  #again = false
  #timer: NodeJS.Timeout | undefined
  #lastPrune = 0

  constructor(deps: AuthDeps, log: WorkerLogger, options: Partial<OutboxOptions> = {}) {
    this.#deps = deps
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
      await store.markFailed(message.id, 'the message could not be built')
      return
    }
    if ('suppress' in outcome) {
      this.#log.info({ ...fields, reason: outcome.suppress }, 'outbox message suppressed')
      await store.markSuppressed(message.id, outcome.suppress)
      return
    }
    if ('drop' in outcome) {
      this.#log.info({ ...fields, reason: outcome.drop }, 'outbox message dropped')
      await store.markFailed(message.id, outcome.drop)
      return
    }
    try {
      const { providerId } = await this.#deps.mailer.send(outcome.send, {
        idempotencyKey: `latchkey-outbox-${message.id}`,
      })
      await store.markSent(message.id, clock(), providerId ?? null)
      this.#log.info(fields, 'email sent')
    } catch (err) {
      const failure = err instanceof DeliveryFailure ? err : undefined
      if (failure?.options.permanent) {
        this.#log.warn({ ...fields, status: failure.options.status }, 'email refused by provider')
        await store.markFailed(message.id, failure.message)
        return
      }
      const next = clock() + this.#delay(message.attempts, failure?.options.retryAfterSeconds)
      if (!failure) this.#log.error({ ...fields, err }, 'email send crashed; will retry')
      else this.#log.warn({ ...fields, status: failure.options.status }, 'email will be retried')
      await store.markRetry(message.id, next, failure?.message ?? 'unexpected error')
    }
  }

  /**
   * The email for a row, or why it is not sent. The token is minted now, from the fields
   * recorded when the request was accepted: the same bytes every attempt, and nothing secret was
   * ever stored. A link that could no longer work is not sent.
   *
   * Every request by email leaves a row like every other, and each row costs the same claim and
   * the same user lookup, an unknown address's included: whether an address gets an email is
   * decided here, not when the request was answered, so the work that follows a request does not
   * depend on the address (DESIGN security 14). What remains different is the email itself.
   * (So a link asked for while its user was disabled is sent if an operator enables the user
   * before the worker gets to it: it is minted for the user as they are when it is sent.)
   */
  async build(message: OutboxMessage): Promise<Outcome> {
    const { config, clock, keyring, store } = this.#deps
    const payload = message.payload as LinkPayload
    const user = await store.findById(message.userId ?? NO_USER)
    if (message.userId === null) return { suppress: 'unknown_address' }
    if (!user) return { drop: 'the user was deleted' }
    if (user.status !== 'active') return { suppress: 'user_disabled' }
    if (payload.expiresAt <= toSeconds(clock())) {
      return { drop: 'the link expired before it could be sent' }
    }
    if (user.rev !== payload.rev) return { drop: 'the user was revoked' }
    if (hasFlag(payload.flags, Flag.OneTime) && user.seq !== payload.seq) {
      return { drop: 'the link was voided: another link was used first' }
    }
    // Checked again as it is sent: a row queued before targets were canonicalised (or before its
    // origin left ALLOWED_REDIRECTS) gets the spelling verifiers compare with, or is not sent.
    let redirect: string | undefined
    try {
      redirect =
        payload.redirect === undefined
          ? undefined
          : checkRedirect(payload.redirect, config.allowedRedirects)
    } catch {
      return { drop: 'the redirect target is no longer allowed' }
    }
    const context = { scope: payload.scope, redirect, ip: payload.ip }
    const token = keyring.mint(
      {
        purpose: payload.purpose === Purpose.Access ? Purpose.Access : Purpose.Login,
        flags: payload.flags,
        userId: user.id,
        expiresAt: payload.expiresAt,
        rev: payload.rev,
        seq: payload.seq,
      },
      context,
    )
    const send = linkMessage({
      to: message.recipient,
      link: buildLink(config.publicUrl, token, redirect),
      appName: config.mail.appName,
      ttlSeconds: payload.ttlSeconds,
      oneTime: hasFlag(payload.flags, Flag.OneTime),
    })
    return { send }
  }

  /** Exponential backoff with jitter (half fixed, half random); never sooner than Retry-After. */
  #delay(attempts: number, retryAfterSeconds: number | undefined): number {
    const { baseDelayMs, maxDelayMs, random } = this.#options
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempts - 1))
    const jittered = ceiling / 2 + random() * (ceiling / 2)
    return Math.round(Math.max(jittered, (retryAfterSeconds ?? 0) * 1000))
  }

  async #prune(): Promise<void> {
    const now = this.#deps.clock()
    if (now - this.#lastPrune < 3600_000) return
    this.#lastPrune = now
    const removed = await this.#deps.store.pruneOutbox(now - this.#options.retentionMs)
    if (removed > 0) this.#log.info({ removed }, 'old outbox messages deleted')
  }
}
