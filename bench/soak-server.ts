/**
 * The server side of `npm run soak` and `npm run fuzz`, forked by bench/soak-harness.ts so the
 * load generator never shares an event loop with the service it drives.
 *
 * latchkey itself, built by buildApp from the configuration the parent made (a real SQLite file
 * in a temporary directory), on 127.0.0.1, port 0. Every SOAK_SAMPLE_MS it measures itself and
 * sends the figures over IPC: resident set size, V8 heap, and the event-loop delay since the last
 * sample (perf_hooks.monitorEventLoopDelay, reset after each sample).
 *
 * IPC: sends {type: 'ready', port}, then {type: 'sample', …} every SOAK_SAMPLE_MS; on 'stop'
 * closes the server and sends {type: 'stopped', rssBytes (before closing), maxRssKiB, requests}
 * before exiting.
 *
 * SOAK_FAULT makes the run fail on purpose, so the tests can show that a failure is seen:
 * `5xx:N` breaks every call to the store from the Nth request on (an unexpected error: the
 * service answers 500), `crash:N` ends the process at its Nth request. Unset in every real run.
 */

import type { AddressInfo } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { buildApp, openStore } from '../src/app.js'
import { loadConfig } from '../src/config/index.js'
import type { Store } from '../src/store/index.js'

export interface Sample {
  /** Milliseconds since the server was ready. */
  atMs: number
  rssBytes: number
  heapUsedBytes: number
  /** Event-loop delay since the previous sample, beyond the timer's own interval, in ms. */
  loop: { p50: number; p99: number; mean: number; max: number }
}

export type ServerMessage =
  | { type: 'ready'; port: number }
  | ({ type: 'sample' } & Sample)
  | { type: 'stopped'; rssBytes: number; maxRssKiB: number; requests: number }

const HOST = '127.0.0.1'
/** The delay monitor's timer interval, ms: what it measures is how late that timer fires. */
const RESOLUTION_MS = 10

async function main(): Promise<void> {
  const send = process.send?.bind(process)
  if (!send) throw new Error('bench/soak-server.ts runs under bench/soak-harness.ts (it needs IPC)')
  const config = loadConfig(JSON.parse(process.env.SOAK_LATCHKEY_ENV ?? '{}'))
  const sampleMs = Number(process.env.SOAK_SAMPLE_MS ?? 5000)
  const fault = parseFault(process.env.SOAK_FAULT)

  let requests = 0
  const broken = () => fault !== undefined && requests >= fault.from
  const store = fault?.kind === '5xx' ? faulty(await openStore(config), broken) : undefined
  const app = await buildApp(config, store ? { store } : {})
  app.server.on('request', () => {
    requests++
    if (fault?.kind === 'crash' && broken()) process.exit(70)
  })
  await app.listen({ host: HOST, port: 0 })

  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  loop.enable()
  const started = performance.now()
  const ms = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS)
  const sampler = setInterval(() => {
    const memory = process.memoryUsage()
    const sample: ServerMessage = {
      type: 'sample',
      atMs: performance.now() - started,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      loop: {
        p50: ms(loop.percentile(50)),
        p99: ms(loop.percentile(99)),
        mean: ms(loop.mean),
        max: ms(loop.max),
      },
    }
    loop.reset()
    send(sample)
  }, sampleMs)

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    clearInterval(sampler)
    loop.disable()
    closing ??= app.close().then(() => store?.close())
    return closing
  }
  process.on('message', (message: { type?: string }) => {
    if (message?.type !== 'stop') return
    const rssBytes = process.memoryUsage().rss
    void close().then(() => {
      const stopped: ServerMessage = {
        type: 'stopped',
        rssBytes,
        maxRssKiB: process.resourceUsage().maxRSS,
        requests,
      }
      send(stopped, () => process.disconnect())
    })
  })
  // The parent died or let go without asking: do not linger as an orphan holding the port.
  process.on('disconnect', () => void close().then(() => process.exit(0)))

  const ready: ServerMessage = { type: 'ready', port: (app.server.address() as AddressInfo).port }
  send(ready)
}

function parseFault(raw: string | undefined): { kind: '5xx' | 'crash'; from: number } | undefined {
  const m = /^(5xx|crash):(\d+)$/.exec(raw ?? '')
  if (!m) return undefined
  return { kind: m[1] as '5xx' | 'crash', from: Math.max(1, Number(m[2])) }
}

/** The store, its every method failing with an error the service did not expect while `broken()`. */
function faulty(store: Store, broken: () => boolean): Store {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function' || name === 'close' || name === 'migrate') return value
      return (...args: unknown[]) =>
        broken()
          ? Promise.reject(new Error('a fault the soak self-check put in'))
          : value.apply(target, args)
    },
  })
}

main().catch((error: unknown) => {
  process.stderr.write(`soak server failed: ${error instanceof Error ? error.stack : error}\n`)
  process.exit(1)
})
