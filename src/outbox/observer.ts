/**
 * What became of one delivery attempt: `sent`; `retried` (a transient failure, tried again
 * later); `failed` (refused for good, or impossible to build); `suppressed` (not to be sent, by
 * design: an unknown address, a disabled user).
 */
export type DeliveryState = 'sent' | 'retried' | 'failed' | 'suppressed'

/** The port through which the worker says what it did with each row, for counting. */
export interface DeliveryObserver {
  /** `kind` is the row's job kind (`email` …), never anything from its payload. */
  delivered(kind: string, state: DeliveryState): void
}
