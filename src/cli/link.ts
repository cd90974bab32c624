import { issueLink } from '../auth/issue-link.js'
import { outboxJobs } from '../auth/outbox-jobs.js'
import { OutboxWorker } from '../outbox/worker.js'
import { stderrLogger, withDeps } from './deps.js'

interface LinkOptions {
  ttl?: number
  redirect?: string
  send?: boolean
}

export async function link(email: string, options: LinkOptions): Promise<void> {
  const issued = await withDeps(
    async (deps) => {
      const result = await issueLink(deps, {
        email,
        redirectTo: options.redirect,
        ttlSeconds: options.ttl,
        deliver: options.send ? 'email' : 'none',
        createUser: true,
        by: { actor: 'cli' },
      })
      // Through the outbox like every email: sent now, or left for the service to retry. Only
      // emails: webhooks waiting in the outbox are the service's to send.
      if (options.send) {
        await new OutboxWorker(deps, outboxJobs(deps), stderrLogger, { kinds: ['email'] }).runOnce()
      }
      return result
    },
    { sendsEmail: options.send === true },
  )
  process.stdout.write(
    issued.link === undefined
      ? `Queued for ${email} (user ${issued.userId}); see GET /v1/admin/outbox for its delivery.\n`
      : `${issued.link}\n`,
  )
}
