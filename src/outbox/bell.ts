/**
 * Tells the outbox worker a message is waiting, so it need not wait for its next poll. Built
 * before both sides: enqueue.ts rings it, and the worker listens from its construction. Nobody
 * listening, or a worker not started, is fine: the message waits in the outbox all the same.
 */
export class OutboxBell {
  readonly #listeners = new Set<() => void>()

  ring(): void {
    for (const listener of this.#listeners) listener()
  }

  /** Calls `listener` on every ring, for as long as the bell lives. */
  listen(listener: () => void): void {
    this.#listeners.add(listener)
  }
}
