/** Why no email goes to an inbox: the person reported unwanted sign-in emails (more to come). */
export type SuppressionReason = 'reported' | 'bounced' | 'complained'

export const SUPPRESSION_REASONS: readonly SuppressionReason[] = [
  'reported',
  'bounced',
  'complained',
]

/**
 * An inbox no email goes to, for a while or for good. Keyed by the inbox (auth/inbox.ts: the
 * provider-aware form the recipient budget counts by), so every spelling that reaches one person
 * is covered by one entry. An address is not a secret: the inbox and the address as given are
 * stored as they are. Times are milliseconds since the Unix epoch.
 */
export interface Suppression {
  /** The inbox, as inboxOf spells it: the key. */
  address: string
  /** The address the entry was made for, as the store received it. */
  email: string
  reason: SuppressionReason
  createdAt: number
  /** When email flows again; null: never (a hard bounce, a complaint). */
  expiresAt: number | null
}

/**
 * The suppression list. A report writes its entry in the report's own transaction
 * (UserStore.report); `suppress` adds one by itself. An entry never shortens one in place: a
 * permanent entry stays permanent, and a temporary one is only ever extended.
 */
export interface SuppressionStore {
  suppress(entry: Suppression): Promise<void>
  /** The entry that stops email to `address` at `now`, if any (expired entries do not). */
  activeSuppression(address: string, now: number): Promise<Suppression | undefined>
  /** The entries in force at `now`, by address, after the address `after` when given. */
  listSuppressions(query: {
    now: number
    after?: string | undefined
    limit: number
  }): Promise<Suppression[]>
  /** Lifts the entry for `address`, whatever its reason; true when there was one. */
  removeSuppression(address: string): Promise<boolean>
}
