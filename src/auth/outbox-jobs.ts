import type { JobHandlers } from '../outbox/jobs.js'
import { webhookJob } from '../outbox/webhook-job.js'
import type { AuthDeps } from './deps.js'
import { linkEmailJob } from './link-email.js'

/** How each kind of outbox job is done, for the worker app.ts (or the CLI) builds. */
export function outboxJobs(deps: AuthDeps): JobHandlers {
  const { secret, urls } = deps.config.webhooks
  return {
    email: linkEmailJob(deps),
    webhook: webhookJob({ secret, urls, clock: deps.clock }),
  }
}
