import type { Test } from 'tap'
import { until } from './poll.js'
import { childEnv, freePort, healthy, LATCHKEY, type Running, startProcess } from './process.js'

export interface Service extends Running {
  port: number
  base: string
  /** fetch against this service; JSON bodies are sent as JSON. */
  request(
    path: string,
    init?: { method?: string; body?: unknown; apiKey?: string },
  ): Promise<Response>
}

/**
 * A real `latchkey serve` process with exactly the settings given: a developer's exported settings
 * never leak in. Stopped at the test's teardown.
 */
export async function startService(
  t: Test,
  env: Record<string, string>,
  options: { port?: number } = {},
): Promise<Service> {
  const port = options.port ?? (await freePort())
  const [node, args] = LATCHKEY(['serve'])
  const running = startProcess(t, node, args, {
    env: childEnv({ PORT: String(port), LOG_LEVEL: 'warn', ...env }, { clean: true }),
  })
  const base = `http://127.0.0.1:${port}`
  const service: Service = {
    ...running,
    port,
    base,
    request: (path, init = {}) =>
      fetch(`${base}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: {
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(init.apiKey ? { authorization: `Bearer ${init.apiKey}` } : {}),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      }),
  }
  await until(() => {
    if (!running.alive()) throw new Error(`the service exited while starting:\n${running.output()}`)
    return healthy(base)
  }, 'the service to start')
  return service
}
