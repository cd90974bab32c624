import { Resend } from 'resend'
import { type Clock, systemClock } from '../clock.js'
import {
  DeliveryFailure,
  extraHeaders,
  type Mailer,
  type MailMessage,
  type SendOptions,
} from './mailer.js'
import { parseRetryAfter } from './retry-after.js'

export interface ResendTransportOptions {
  apiKey: string
  /** The sender, as Resend expects it: `Acme <login@acme.example>` or a bare address. */
  from: string
  /** Defaults to Resend's production API; tests point it at a local fake. */
  baseUrl?: string | undefined
  /** Upper bound for one attempt, answer included. */
  timeoutMs?: number
  /** For the HTTP-date form of Retry-After. */
  clock?: Clock
}

const RESEND_API = 'https://api.resend.com'
const DEFAULT_TIMEOUT_MS = 10_000

/** Delivery through Resend. The only file that imports the resend SDK. */
export class ResendTransport implements Mailer {
  readonly #resend: Resend
  readonly #from: string
  readonly #timeoutMs: number
  readonly #clock: Clock

  constructor(options: ResendTransportOptions) {
    const { apiKey, from, baseUrl, timeoutMs = DEFAULT_TIMEOUT_MS, clock = systemClock } = options
    // Checked here because the SDK would otherwise fall back to RESEND_API_KEY from the
    // environment: configuration comes from config/ alone.
    if (!apiKey) throw new TypeError('ResendTransport needs an API key')
    if (!from) throw new TypeError('ResendTransport needs a sender address')
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError('ResendTransport timeoutMs must be a positive integer')
    }
    // Always passed explicitly, for the same reason: left undefined, the SDK reads RESEND_BASE_URL.
    // It joins paths by concatenation, so a trailing slash would produce `//emails`.
    this.#resend = new Resend(apiKey, { baseUrl: (baseUrl ?? RESEND_API).replace(/\/+$/, '') })
    this.#from = from
    this.#timeoutMs = timeoutMs
    this.#clock = clock
  }

  async send(message: MailMessage, options: SendOptions): Promise<{ providerId?: string }> {
    // Without a bound, a provider that accepts the connection and never answers would hold an
    // outbox worker forever. An attempt cut short may still have been accepted; the idempotency
    // key makes the retry return that email instead of sending a second one.
    const signal = AbortSignal.timeout(this.#timeoutMs)
    const { data, error, headers } = await this.#resend.emails.send(
      {
        from: this.#from,
        to: [message.to],
        subject: message.subject,
        html: message.html,
        text: message.text,
        headers: extraHeaders(message),
      },
      { idempotencyKey: options.idempotencyKey, signal },
    )
    if (error === null && data !== null) {
      return typeof data.id === 'string' ? { providerId: data.id } : {}
    }

    // The SDK never throws: a refused connection, a reset and our own timeout all come back as an
    // error without a status, and an error body is passed on as parsed, so nothing in it is trusted.
    const status = httpStatus(error?.statusCode)
    const retryAfterSeconds = parseRetryAfter(headers?.['retry-after'], this.#clock())
    const name = errorName(error?.name)
    // Our keys are one per outbox row, so this answer means an earlier attempt of this very message
    // was accepted and the content has changed since (a rotated link key, a new template). The
    // email went out; failing the row now would misreport it, and sending again would duplicate.
    if (status === 409 && name === 'invalid_idempotent_request') return {}
    if (status === undefined) {
      const message = signal.aborted
        ? `Resend did not answer within ${this.#timeoutMs} ms`
        : 'Resend could not be reached'
      throw new DeliveryFailure(message, { permanent: false, retryAfterSeconds })
    }
    // Only the status and the provider's error code go into the message: it ends up in logs and
    // in the outbox row, and the recipient, subject and body (the link) must not.
    throw new DeliveryFailure(`Resend answered ${status} ${name}`, {
      permanent: isPermanent(status, name),
      status,
      retryAfterSeconds,
    })
  }
}

function isPermanent(status: number, name: string): boolean {
  if (status === 408 || status === 429) return false
  // Resend's own documentation: another attempt with this key is still in progress, and it is
  // safe to retry later. Treating it as permanent would mark a message failed that was, or is
  // about to be, delivered.
  if (status === 409 && name === 'concurrent_idempotent_requests') return false
  return status >= 400 && status < 500
}

function httpStatus(value: unknown): number | undefined {
  return Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 599
    ? (value as number)
    : undefined
}

/** Resend's codes are snake_case words; anything else is not repeated into our logs. */
function errorName(value: unknown): string {
  return typeof value === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(value) ? value : 'unknown_error'
}
