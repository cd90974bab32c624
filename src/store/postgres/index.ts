import { SILENT } from '../announce.js'
import { composeStore } from '../compose.js'
import type { Store, StoreOptions } from '../index.js'
import { postgresAudit } from './audit.js'
import { Connection, createPool } from './connection.js'
import { postgresDeliveries } from './deliveries.js'
import { postgresOutbox } from './outbox.js'
import { postgresPhantoms } from './phantoms.js'
import { postgresSessions } from './sessions.js'
import { postgresSuppressions } from './suppressions.js'
import { postgresUsers } from './users.js'

export interface PostgresOptions extends StoreOptions {
  /** Connections in the pool; each instance holds at most this many. */
  poolSize?: number
}

// Readiness means the schema is there too, not only the server.
const PING = { name: 'lk_ping', text: 'SELECT 1 AS ok FROM schema_migrations LIMIT 1' }

/**
 * The networked store: PostgreSQL through a pool of connections, for several instances sharing
 * one database. Nothing is done here: the first query connects and migrates (see Connection).
 */
export function openPostgresStore(url: string, options: PostgresOptions = {}): Store {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
    throw new TypeError('url must be a postgres:// or postgresql:// URL')
  }
  const db = new Connection(createPool(url, options.poolSize ?? 10))
  const announcer = options.announcer ?? SILENT
  return composeStore({
    users: postgresUsers(db, announcer),
    sessions: postgresSessions(db, announcer),
    phantoms: postgresPhantoms(db),
    outbox: postgresOutbox(db, announcer),
    audit: postgresAudit(db, announcer),
    deliveries: postgresDeliveries(db, announcer),
    suppressions: postgresSuppressions(db),
    ping: async () => {
      await db.query(PING, [])
    },
    // Applies pending migrations now (they otherwise run before the first query).
    migrate: () => db.ensureSchema(),
    close: () => db.close(),
  })
}
