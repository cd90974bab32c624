import { type EventAnnouncer, SILENT } from '../announce.js'
import { composeStore } from '../compose.js'
import type { Store, StoreOptions } from '../index.js'
import { sqliteAudit } from './audit.js'
import { type Db, guarded, openDatabase } from './connection.js'
import { sqliteDeliveries } from './deliveries.js'
import { migrate } from './migrate.js'
import { sqliteOutbox } from './outbox.js'
import { sqlitePhantoms } from './phantoms.js'
import { sqliteSessions } from './sessions.js'
import { sqliteSuppressions } from './suppressions.js'
import { sqliteUsers } from './users.js'

/**
 * The embedded store: one SQLite file, one connection per process. Opening it applies pending
 * migrations. The compare-and-increment in `consume` is what keeps one-time tokens single-use
 * across processes sharing the file as well.
 */
export function openSqliteStore(file: string, options: StoreOptions = {}): Store {
  const db = openDatabase(file)
  try {
    return compose(db, options.announcer ?? SILENT)
  } catch (error) {
    db.close()
    throw error
  }
}

function compose(db: Db, announcer: EventAnnouncer): Store {
  const guard = guarded(db)
  // Readiness means the schema is there too, not only the file.
  const ping = db.prepare('SELECT 1 AS ok FROM schema_migrations LIMIT 1')
  return composeStore({
    users: sqliteUsers(db, guard, announcer),
    sessions: sqliteSessions(db, guard, announcer),
    phantoms: sqlitePhantoms(db, guard),
    outbox: sqliteOutbox(db, guard, announcer),
    audit: sqliteAudit(db, guard, announcer),
    deliveries: sqliteDeliveries(db, guard, announcer),
    suppressions: sqliteSuppressions(db, guard),
    ping: async () => {
      guard(() => ping.get())
    },
    // Opening the file already applied them; this checks again (another process may be newer).
    migrate: async () => guard(() => migrate(db)),
    // better-sqlite3 makes a second close a no-op, which shutdown paths rely on.
    close: async () => {
      db.close()
    },
  })
}
