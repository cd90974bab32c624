import type { AuditContext } from '../store/audit.js'
import type { JobKind, JobTypes, OutboxDeps } from './jobs.js'

export interface NewJob<K extends JobKind> {
  /** The user the job is for, if any: the row goes with them. */
  userId: string | null
  recipient: string
  payload: JobTypes[K]['payload']
  /** Who asked, for the audit trail (email.queued); the system's when absent. */
  by?: AuditContext | undefined
}

/**
 * Queues a job of one kind, its payload typed by the kind, and rings the worker's bell. The row
 * is durable once this resolves: the worker sends it now, or whichever instance polls next does.
 */
export async function enqueue<K extends JobKind>(
  deps: Pick<OutboxDeps, 'store' | 'clock' | 'outboxBell'>,
  kind: K,
  job: NewJob<K>,
): Promise<void> {
  const { by, ...message } = job
  await deps.store.enqueue({ kind, ...message, now: deps.clock() }, by)
  deps.outboxBell.ring()
}
