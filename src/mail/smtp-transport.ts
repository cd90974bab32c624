import { createTransport } from 'nodemailer'
import { parseConnectionUrl } from 'nodemailer/lib/shared'
import {
  DeliveryFailure,
  extraHeaders,
  type Mailer,
  type MailMessage,
  type SendOptions,
} from './mailer.js'

export interface SmtpTransportOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://user:pass@host:465`. */
  url: string
  /** The sender: `Acme <login@acme.example>` or a bare address; also the envelope's MAIL FROM. */
  from: string
  /** Upper bound for one attempt, from connecting to the server's last answer. */
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 30_000
/** Each wait within an attempt: connecting, the greeting, and silence between two replies. */
const STEP_TIMEOUT_MS = 10_000

/**
 * Delivery through any SMTP server: a provider's submission port or a company relay. The only
 * file that imports nodemailer.
 *
 * One connection per message, no pool: sign-in emails come one at a time (the outbox sends one
 * email at once), and a fresh connection never finds itself on a socket the relay closed while
 * it sat idle, nor has nodemailer's pool requeue a message behind the outbox's back: an attempt
 * is exactly one SMTP transaction, and the outbox alone decides about the next.
 */
export class SmtpTransport implements Mailer {
  readonly #transport: ReturnType<typeof createTransport>
  readonly #from: string
  readonly #domain: string
  readonly #timeoutMs: number

  constructor(options: SmtpTransportOptions) {
    const { url, from, timeoutMs = DEFAULT_TIMEOUT_MS } = options
    if (!/^smtps?:\/\//i.test(url)) throw new TypeError('SmtpTransport needs an smtp(s):// URL')
    if (!from) throw new TypeError('SmtpTransport needs a sender address')
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError('SmtpTransport timeoutMs must be a positive integer')
    }
    const step = Math.min(STEP_TIMEOUT_MS, timeoutMs)
    const parsed = parseConnectionUrl(url)
    this.#transport = createTransport({
      // The URL's own options (`?requireTLS=false`, `?tls.servername=…`) are nodemailer's, as
      // documented there; what follows is ours and wins over them.
      ...parsed,
      requireTLS: requiresTls(parsed),
      pool: false,
      connectionTimeout: step,
      greetingTimeout: step,
      socketTimeout: step,
      dnsTimeout: step,
      // The SMTP transcript holds the message, and the message holds the sign-in link: nothing
      // of it is ever logged, whatever the URL asks for.
      logger: false,
      debug: false,
      transactionLog: false,
      // Nothing in a sign-in email names a file or a URL to fetch and attach; if a template ever
      // did, it must not reach the disk or the network from here.
      disableFileAccess: true,
      disableUrlAccess: true,
    })
    this.#from = from
    this.#domain = senderDomain(from)
    this.#timeoutMs = timeoutMs
  }

  async send(message: MailMessage, options: SendOptions): Promise<{ providerId?: string }> {
    // SMTP has no idempotency key. The key becomes the Message-ID, the same for every attempt at
    // one message: should an attempt be accepted and its answer lost (the connection dropped after
    // the final dot), the second copy carries the first one's Message-ID, which relays and
    // mailboxes that deduplicate recognise, and which an operator can find in the relay's log.
    const messageId = `<${localPart(options.idempotencyKey)}@${this.#domain}>`
    // Without an overall bound, a server that answers each command just before the socket timeout
    // would hold an outbox worker far longer than one attempt's lease.
    const signal = AbortSignal.timeout(this.#timeoutMs)
    try {
      const info = await this.#transport.sendMail({
        from: this.#from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: extraHeaders(message),
        messageId,
        signal,
      })
      return { providerId: typeof info.messageId === 'string' ? info.messageId : messageId }
    } catch (error) {
      throw failureOf(error, signal.aborted, this.#timeoutMs)
    }
  }
}

/**
 * Whether an smtp:// connection must be upgraded with STARTTLS before anything is sent. It must,
 * unless the URL says otherwise (`?requireTLS=false` or `?ignoreTLS=true`) or the server is on
 * this machine: opportunistic STARTTLS lets anyone on the path strip the server's offer, and
 * the password and every sign-in link would then cross the network in clear. (smtps:// is TLS
 * from the first byte.)
 */
export function requiresTls(options: {
  secure?: boolean | undefined
  host?: string | undefined
  requireTLS?: boolean | undefined
  ignoreTLS?: boolean | undefined
}): boolean {
  if (options.secure === true) return false
  if (options.requireTLS !== undefined) return options.requireTLS
  if (options.ignoreTLS === true) return false
  return !isLoopback(options.host ?? 'localhost')
}

function isLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '')
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name)
}

interface SmtpError {
  code?: unknown
  originalCode?: unknown
  responseCode?: unknown
  response?: unknown
  command?: unknown
  timeoutType?: unknown
}

/**
 * Failures that are the message's or the settings' and that no retry of this message can mend,
 * when no SMTP reply says otherwise: a malformed address, a server demanding credentials we do
 * not have, credentials it refused without a reply code.
 */
const PERMANENT_CODES = new Set([
  'ECONFIG',
  'EENVELOPE',
  'ENOAUTH',
  'EAUTH',
  'EMAXRECIPIENTS',
  'EFILEACCESS',
  'EURLACCESS',
])

/**
 * Retry classification, as Resend's (resend-transport.ts): an SMTP reply is permanent from 5yz
 * and temporary from 4yz (RFC 5321 4.2.1); 503 "bad sequence of commands" is about the session,
 * not the message, so a new connection may succeed. Without a reply (refused, reset, dropped
 * mid-message, timed out, TLS or DNS trouble) it is worth trying again. The message names the
 * reply code, the command and the enhanced status code only: nodemailer's own message repeats
 * the server's reply, and that often quotes the recipient.
 */
export function failureOf(error: unknown, aborted: boolean, timeoutMs: number): DeliveryFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SmtpError
  const code = word(e.code)
  const reply = replyCode(e.responseCode)
  if (reply !== undefined) {
    const permanent = reply >= 500 && reply !== 503
    const enhanced = typeof e.response === 'string' ? enhancedStatus(e.response) : undefined
    const command = commandName(e.command)
    return new DeliveryFailure(
      `SMTP server answered ${reply}${enhanced ? ` ${enhanced}` : ''}${command ? ` to ${command}` : ''}`,
      { permanent, status: reply },
    )
  }
  if (aborted || code === 'EABORT') {
    return new DeliveryFailure(`SMTP delivery did not finish within ${timeoutMs} ms`, {
      permanent: false,
    })
  }
  if (code !== undefined && PERMANENT_CODES.has(code)) {
    return new DeliveryFailure(`SMTP delivery refused before sending (${code})`, {
      permanent: true,
    })
  }
  const cause = word(e.originalCode)
  const why =
    code === 'ETIMEDOUT'
      ? `the SMTP server did not answer in time${timeoutName(e.timeoutType)}`
      : code === 'ECONNECTION'
        ? 'the SMTP server closed the connection'
        : code === 'EDNS'
          ? "the SMTP server's name did not resolve"
          : code === 'ETLS'
            ? 'TLS with the SMTP server failed'
            : 'the SMTP server could not be reached'
  const detail = [code, cause].filter((c) => c !== undefined && c !== 'ETIMEDOUT')
  return new DeliveryFailure(`${why}${detail.length > 0 ? ` (${detail.join(', ')})` : ''}`, {
    permanent: false,
  })
}

/** An error code such as ECONNREFUSED; anything else is not repeated into our logs. */
function word(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Z][A-Z0-9_]{1,31}$/.test(value) ? value : undefined
}

function replyCode(value: unknown): number | undefined {
  return Number.isInteger(value) && (value as number) >= 200 && (value as number) <= 599
    ? (value as number)
    : undefined
}

/** RFC 3463's `5.1.1` from a reply; the rest of the reply may name the recipient. */
function enhancedStatus(response: string): string | undefined {
  return /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(response)?.[1]
}

/** `RCPT TO`, `DATA`, `AUTH PLAIN`: the verb, never its argument. */
function commandName(value: unknown): string | undefined {
  return typeof value === 'string' ? /^[A-Z]{2,10}(?: [A-Z]{2,10})?\b/.exec(value)?.[0] : undefined
}

function timeoutName(value: unknown): string {
  const names: Record<string, string> = {
    CONNECT_TIMEOUT: ' to connect',
    GREETING_TIMEOUT: ' with its greeting',
    UPGRADE_TIMEOUT: ' to STARTTLS',
    SOCKET_TIMEOUT: ' to a command',
  }
  return (typeof value === 'string' && names[value]) || ''
}

/** The domain of the sender's address, for Message-IDs: `acme.example` from `Acme <a@acme.example>`. */
export function senderDomain(from: string): string {
  const address = /<([^<>]*)>\s*$/.exec(from)?.[1] ?? from
  const domain = address.slice(address.lastIndexOf('@') + 1).trim()
  return /^[A-Za-z0-9.-]{1,253}$/.test(domain) && address.includes('@') ? domain : 'localhost'
}

/** A Message-ID's left side may hold atext and dots only. */
function localPart(key: string): string {
  const safe = key.replace(/[^A-Za-z0-9._-]/g, '')
  return safe === '' ? 'latchkey' : safe.slice(0, 200)
}
