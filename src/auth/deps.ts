import type { Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import type { RecipientLimiter } from '../limits/recipient-budget.js'
import type { Mailer } from '../mail/mailer.js'
import type { SessionKeys } from '../sessions/jwt.js'
import type { Store } from '../store/index.js'
import type { KeyRing } from '../tokens/keyring.js'

/** What every use case may use. Built once by app.ts; nothing here is created per request. */
export interface AuthDeps {
  config: Config
  store: Store
  keyring: KeyRing
  sessions: SessionKeys
  mailer: Mailer
  clock: Clock
  /** Tells the outbox worker a message is waiting, so it need not wait for its next poll. */
  outboxBell: () => void
  /** Counts the sign-in emails each address is sent (DESIGN requirement 15). */
  recipientLimiter: RecipientLimiter
}
