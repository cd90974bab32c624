import { listAuditEvents } from '../auth/audit-trail.js'
import type { AuditEvent } from '../store/audit.js'
import { withDeps } from './deps.js'

interface AuditOptions {
  user?: string
  type?: string
  limit?: number
}

/** A user's audit trail, newest first, one event a line: time, type, actor, then the rest. */
export async function audit(options: AuditOptions): Promise<void> {
  const page = await withDeps(
    (deps) =>
      listAuditEvents(deps, {
        userId: options.user?.toLowerCase(),
        type: options.type,
        limit: options.limit ?? 50,
      }),
    { sendsEmail: false },
  )
  for (const event of page.events) process.stdout.write(`${line(event)}\n`)
  if (page.next !== undefined) {
    process.stderr.write(
      `More events are older; GET /v1/admin/audit?before=${page.next} pages on.\n`,
    )
  }
}

function line(event: AuditEvent): string {
  const parts = [new Date(event.at).toISOString(), event.type, event.actor]
  if (event.userId !== null) parts.push(`user=${event.userId}`)
  if (event.sessionId !== null) parts.push(`session=${event.sessionId}`)
  if (event.ip !== null) parts.push(`ip=${event.ip}`)
  if (Object.keys(event.detail).length > 0) parts.push(JSON.stringify(event.detail))
  return parts.join('  ')
}
