export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
  /** The language of the message (a BCP 47 tag): sent as its Content-Language header. */
  lang?: string | undefined
}

/** The headers a transport adds to a message beyond From, To and Subject. */
export function extraHeaders(message: MailMessage): Record<string, string> {
  // A tag is letters, digits and hyphens; anything else never reaches a header.
  return message.lang && /^[A-Za-z0-9-]{1,35}$/.test(message.lang)
    ? { 'Content-Language': message.lang }
    : {}
}

export interface SendOptions {
  /**
   * The same key for every attempt at one message: a provider that saw an earlier attempt (one
   * whose answer was lost to a timeout) accepts the retry without sending a second email.
   */
  idempotencyKey: string
}

/** One transport behind one method. Resolves once the provider accepted the message. */
export interface Mailer {
  send(message: MailMessage, options: SendOptions): Promise<{ providerId?: string }>
}

/**
 * Why a message was not accepted, and whether trying again can help. Thrown by transports;
 * internal, never shown to an API client. `message` never contains the email's content.
 */
export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly options: {
      /** True when retrying cannot succeed (a 4xx other than 429: bad address, bad sender …). */
      permanent: boolean
      /** The provider's HTTP status; undefined for network errors and timeouts. */
      status?: number | undefined
      /** The provider's Retry-After, in seconds, when it sent one. */
      retryAfterSeconds?: number | undefined
    },
  ) {
    super(message)
    this.name = 'DeliveryFailure'
  }
}
