export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
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
