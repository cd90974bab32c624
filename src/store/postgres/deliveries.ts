import type { EventAnnouncer } from '../announce.js'
import { SYSTEM } from '../audit.js'
import type { DeliveryStore } from '../deliveries.js'
import { deliverySql } from '../delivery-sql.js'
import { type OutboxRow, toMessage } from '../rows.js'
import { suppressionValues } from '../suppression-sql.js'
import { announcing, recordOn } from './audit.js'
import type { Connection } from './connection.js'
import { SUPPRESS } from './suppressions.js'

const sql = deliverySql((n) => `$${n}`)
const SQL = {
  byProvider: { name: 'lk_outbox_by_provider', text: sql.byProvider },
  seen: { name: 'lk_provider_event', text: sql.seen },
  deliver: { name: 'lk_outbox_delivery', text: sql.deliver },
  owner: { name: 'lk_outbox_owner', text: sql.owner },
  suppress: SUPPRESS,
  prune: { name: 'lk_prune_provider_events', text: sql.prune },
} as const

/** The delivery feedback; the twin of sqlite/deliveries.ts. Arguments are checked by compose.ts. */
export function postgresDeliveries(db: Connection, announcer: EventAnnouncer): DeliveryStore {
  return {
    async findByProviderId(providerId) {
      const [row] = await db.rows<OutboxRow>(SQL.byProvider, [providerId])
      return row && toMessage(row)
    },
    // One transaction. Two deliveries of one callback at once: the second's insert of the id
    // waits for the first's commit, then inserts nothing, and the second changes nothing.
    recordDelivery: (report, now, audit = SYSTEM) =>
      announcing(announcer, (announce) =>
        db.transaction(async (client) => {
          const fresh = await client.query({ ...SQL.seen, values: [report.eventId, now] })
          if (fresh.rowCount === 0) return false
          await client.query({
            ...SQL.deliver,
            values: [report.outcome, now, report.messageId, report.outcome],
          })
          if (report.event) {
            const owner = await client.query<{ user_id: string | null }>({
              ...SQL.owner,
              values: [report.messageId],
            })
            const userId = owner.rows[0]?.user_id ?? null
            await recordOn(client, announce, now, report.event.type, userId, null, audit, {
              message_id: report.messageId,
              ...report.event.detail,
            })
          }
          if (report.suppression) {
            await client.query({ ...SQL.suppress, values: suppressionValues(report.suppression) })
          }
          return true
        }),
      ),
    pruneProviderEvents: async (before) => (await db.query(SQL.prune, [before])).rowCount ?? 0,
  }
}
