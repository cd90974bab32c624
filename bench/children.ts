/**
 * The parent's side of bench/servers.mjs: one child process per server, run by plain node, and
 * what the parent asks of it (its port, its CPU time so far, its RSS once stopped), and hears from
 * it unasked (the soak role's samples, its end).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { messagesOf } from './ipc.js'
import { atExit } from './run.js'

/**
 * What a server child runs: latchkey, latchkey as the soak and the fuzz drive it, the signing
 * floor or the constant floor.
 */
export type Role = 'latchkey' | 'soak' | 'signing' | 'constant'

/** What the soak role measures of itself every BENCH_SAMPLE_MS (see bench/servers.mjs). */
export interface Sample {
  rssBytes: number
  heapUsedBytes: number
  /** Event-loop delay since the previous sample, beyond the timer's own interval, in ms. */
  loop: { p50: number; p99: number; mean: number; max: number }
  /** When it arrived here (performance.now()): a sample covers the time before. */
  receivedAt: number
}

/** What a server says when it has stopped. */
export interface Stopped {
  /** Its RSS when asked to stop, before closing, bytes. */
  rssBytes: number
  /** Its peak RSS (maxRSS), KiB. */
  maxRssKiB: number
  /** The HTTP requests it saw (the soak role counts them). */
  requests?: number
}

/** What a server child says over IPC. */
type ServerMessage =
  | { type: 'ready'; host: string; port: number }
  | { type: 'cpu'; micros: number }
  | ({ type: 'sample' } & Omit<Sample, 'receivedAt'>)
  | ({ type: 'stopped' } & Stopped)

export interface Server {
  role: Role
  host: string
  port: number
  url: string
  /** What the server measured of itself so far (the soak role; the others send none). */
  samples: Sample[]
  /** Undefined while the process runs; how it ended otherwise. */
  exit(): string | undefined
  /** CPU time (user + system) the server's process has used so far, µs. */
  cpuMicros(): Promise<number>
  /** Closes the server and ends its process; resolves to what it said then. */
  stop(): Promise<Stopped>
}

/**
 * Forks `servers.mjs <role>` with these extra environment variables, and waits until it listens.
 * The child runs without this process's TypeScript loader (execArgv empty). Its stdout goes
 * nowhere (the soak's log mail transport prints every email there); its stderr is this one's.
 */
export async function startServer(role: Role, env: Record<string, string>): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./servers.mjs', import.meta.url)), [role], {
    env: { ...process.env, ...env },
    execArgv: [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  atExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill()
  })
  const samples: Sample[] = []
  child.on('message', (message: ServerMessage) => {
    if (message.type !== 'sample') return
    const { type: _, ...sample } = message
    samples.push({ ...sample, receivedAt: performance.now() })
  })
  let ended: string | undefined
  child.once('exit', (code, signal) => {
    ended = signal ? `killed by ${signal}` : `exited with code ${code}`
  })
  const { host, port } = await nextMessage(child, 'ready')
  return {
    role,
    host,
    port,
    url: `http://${host}:${port}`,
    samples,
    exit: () => ended,
    async cpuMicros() {
      return (await ask(child, 'cpu', 'cpu')).micros
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      const { type: _, ...stopped } = await ask(child, 'stop', 'stopped')
      await exited
      return stopped
    },
  }
}

/** Sends a request and resolves with the answer; rejects when the child is gone. */
async function ask<T extends ServerMessage['type']>(
  child: ChildProcess,
  request: 'cpu' | 'stop',
  answer: T,
): Promise<Extract<ServerMessage, { type: T }>> {
  const answered = nextMessage(child, answer)
  // With a callback, a closed channel fails the send instead of an 'error' event on the child.
  const sent = new Promise<void>((resolve, reject) =>
    child.send({ type: request }, (error) => (error ? reject(error) : resolve())),
  )
  const [message] = await Promise.all([answered, sent])
  return message
}

const nextMessage = messagesOf<ServerMessage>('the bench server')
