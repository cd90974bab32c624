import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import { childEnv } from './child-env.js'

const root = new URL('../..', import.meta.url).pathname

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Polls `check` every 100 ms until it holds; fails after `seconds`. */
export async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  seconds = 60,
): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if (await check()) return
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what}`)
}

export interface Service {
  port: number
  base: string
  child: ChildProcess
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** True while the process runs. */
  alive(): boolean
  /** fetch against this service; JSON bodies are sent as JSON. */
  request(
    path: string,
    init?: { method?: string; body?: unknown; apiKey?: string },
  ): Promise<Response>
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>
}

/**
 * A real `latchkey serve` process (through tsx, so no build is needed) with exactly the settings
 * given: a developer's exported settings never leak in. Stopped at the test's teardown.
 */
export async function startService(
  t: Test,
  env: Record<string, string>,
  options: { port?: number } = {},
): Promise<Service> {
  const port = options.port ?? (await freePort())
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: root,
    env: childEnv({ PORT: String(port), LOG_LEVEL: 'warn', ...env }, { clean: true }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let exited = false
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true
      resolve()
    })
  })
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const base = `http://127.0.0.1:${port}`
  const service: Service = {
    port,
    base,
    child,
    output: () => output,
    alive: () => !exited,
    request: (path, init = {}) =>
      fetch(`${base}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: {
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(init.apiKey ? { authorization: `Bearer ${init.apiKey}` } : {}),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      }),
    async stop() {
      if (exited) return
      child.kill('SIGTERM')
      await exit
    },
  }
  t.teardown(() => service.stop())
  await until(() => {
    if (exited) throw new Error(`the service exited while starting:\n${output}`)
    return fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
  }, 'the service to start')
  return service
}
