import type { Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import type { RecipientLimiter } from '../limits/recipient-budget.js'
import type { Texts } from '../mail/locales/index.js'
import type { Mailer } from '../mail/mailer.js'
import type { LinkMessages } from '../mail/templates/link.js'
import type { OutboxBell } from '../outbox/bell.js'
import type { SessionKeys } from '../sessions/jwt.js'
import type { Store } from '../store/index.js'
import type { KeyRing } from '../tokens/keyring.js'
import type { Observer } from './observer.js'

/** What every use case may use. Built once by app.ts; nothing here is created per request. */
export interface AuthDeps {
  readonly config: Config
  readonly store: Store
  readonly keyring: KeyRing
  readonly sessions: SessionKeys
  readonly mailer: Mailer
  readonly clock: Clock
  /** Rung when a message is waiting, so the outbox worker need not wait for its next poll. */
  readonly outboxBell: OutboxBell
  /** Counts the sign-in emails each address is sent (DESIGN requirement 15). */
  readonly recipientLimiter: RecipientLimiter
  /** Counts the sign-in code attempts for each address (DESIGN requirement 18). */
  readonly codeGuesses: RecipientLimiter
  /** The languages on offer and their words: the pages' and the emails'. */
  readonly texts: Texts
  /** The sign-in email, with the operator's templates (TEMPLATES_DIR) and brand. */
  readonly emails: LinkMessages
  /** Hears what happened (links issued, verifications, sessions, deliveries), for the metrics. */
  readonly observer: Observer
}
