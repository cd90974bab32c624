import type { EventAnnouncer } from '../announce.js'
import { type AuditContext, SYSTEM } from '../audit.js'
import type { DeliveryReport, DeliveryStore } from '../deliveries.js'
import { deliverySql } from '../delivery-sql.js'
import { type OutboxRow, toMessage } from '../rows.js'
import { suppressionValues } from '../suppression-sql.js'
import { eventWriter } from './audit.js'
import type { Db, Guard } from './connection.js'
import { suppressionWriter } from './suppressions.js'

const SQL = deliverySql(() => '?')

/** The delivery feedback; the twin of postgres/deliveries.ts. Arguments are checked by compose.ts. */
export function sqliteDeliveries(db: Db, guard: Guard, announcer: EventAnnouncer): DeliveryStore {
  const byProvider = db.prepare<[string], OutboxRow<string>>(SQL.byProvider)
  const seen = db.prepare<[string, number], { id: string }>(SQL.seen)
  const deliver = db.prepare<[string, number, string, string]>(SQL.deliver)
  const owner = db.prepare<[string], { user_id: string | null }>(SQL.owner)
  const prune = db.prepare<[number]>(SQL.prune)
  const suppress = suppressionWriter(db)
  const record = eventWriter(db, announcer)
  const recordDelivery = db.transaction(
    (report: DeliveryReport, now: number, context: AuditContext): boolean => {
      if (seen.get(report.eventId, now) === undefined) return false
      deliver.run(report.outcome, now, report.messageId, report.outcome)
      if (report.event) {
        const userId = owner.get(report.messageId)?.user_id ?? null
        record(now, report.event.type, userId, null, context, {
          message_id: report.messageId,
          ...report.event.detail,
        })
      }
      if (report.suppression) suppress.run(...suppressionValues(report.suppression))
      return true
    },
  )
  return {
    async findByProviderId(providerId) {
      const row = guard(() => byProvider.get(providerId))
      return row && toMessage({ ...row, payload: JSON.parse(row.payload) })
    },
    recordDelivery: async (report, now, audit = SYSTEM) =>
      guard(() => recordDelivery.immediate(report, now, audit)),
    pruneProviderEvents: async (before) => guard(() => prune.run(before)).changes,
  }
}
