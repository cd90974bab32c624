import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Mailer } from '../mail/mailer.js'
import type { SessionKeys } from '../sessions/jwt.js'
import type { KeyRing } from '../tokens/keyring.js'
import type { UserStore } from '../users/store.js'

/** What every use case may use. Built once by app.ts; nothing here is created per request. */
export interface AuthDeps {
  config: Config
  store: UserStore
  keyring: KeyRing
  sessions: SessionKeys
  mailer: Mailer
  clock: Clock
}
