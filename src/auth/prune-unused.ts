import type { AuthDeps } from './deps.js'

export interface PruneOptions {
  /**
   * Users created by a request who never signed in, and stand-in ids, are deleted once unused
   * this long (see Store.pruneUnused).
   */
  unusedRetentionMs: number
  /** At most this many of each per statement. */
  pruneBatch: number
}

export const DEFAULT_PRUNE_OPTIONS: PruneOptions = {
  unusedRetentionMs: 30 * 24 * 3600_000,
  pruneBatch: 1000,
}

export interface PruneLogger {
  info(fields: object, message: string): void
}

/**
 * Forgets what requests left behind and nobody used: users the hosted form created who never
 * signed in, and stand-in ids no longer asked for. In batches, so no single statement holds its
 * locks for long on a big backlog, until a batch comes back short. Resolves to how many went.
 */
export async function pruneUnused(
  deps: Pick<AuthDeps, 'store' | 'clock'>,
  log: PruneLogger,
  options: PruneOptions,
): Promise<{ users: number; phantoms: number }> {
  const { unusedRetentionMs, pruneBatch } = options
  const before = deps.clock() - unusedRetentionMs
  const removed = { users: 0, phantoms: 0 }
  for (;;) {
    const batch = await deps.store.pruneUnused(before, pruneBatch, deps.clock())
    removed.users += batch.users
    removed.phantoms += batch.phantoms
    if (batch.users < pruneBatch && batch.phantoms < pruneBatch) break
  }
  if (removed.users + removed.phantoms > 0) {
    log.info(removed, 'unused users and stand-in ids deleted')
  }
  return removed
}
