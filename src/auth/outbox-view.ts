import type { OutboxMessage, OutboxQuery, OutboxStatus } from '../store/outbox.js'
import type { AuthDeps } from './deps.js'

export interface OutboxPage {
  messages: OutboxMessage[]
  counts: Record<OutboxStatus, number>
  /** Pass as `before` for the next page; absent on the last one. */
  next?: string
}

/** The operator's view of delivery: state, attempts and errors. Payloads stay inside. */
export async function viewOutbox(deps: AuthDeps, query: OutboxQuery): Promise<OutboxPage> {
  const [messages, counts] = await Promise.all([
    deps.store.listOutbox(query),
    deps.store.countOutbox(),
  ])
  const last = messages.at(-1)
  return messages.length === query.limit && last
    ? { messages, counts, next: last.id }
    : { messages, counts }
}
