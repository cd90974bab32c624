/**
 * The parent's side of bench/servers.mjs: one child process per server, run by plain node, and
 * what the parent asks of it (its port, its CPU time so far, its peak RSS once stopped).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { messagesOf } from './ipc.js'
import { HOST } from './options.js'
import { atExit } from './run.js'

/** What a server child runs: latchkey, the signing floor or the constant floor. */
export type Role = 'latchkey' | 'signing' | 'constant'

/** What a server child says over IPC. */
type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'cpu'; micros: number }
  | { type: 'stopped'; maxRssKiB: number }

export interface Server {
  role: Role
  port: number
  url: string
  /** CPU time (user + system) the server's process has used so far, µs. */
  cpuMicros(): Promise<number>
  /** Closes the server and ends its process; resolves to its peak RSS (maxRSS), KiB. */
  stop(): Promise<number>
}

/**
 * Forks `servers.mjs <role>` with these extra environment variables, and waits until it listens.
 * The child runs without this process's TypeScript loader (execArgv empty).
 */
export async function startServer(role: Role, env: Record<string, string>): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./servers.mjs', import.meta.url)), [role], {
    env: { ...process.env, ...env },
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  atExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill()
  })
  const { port } = await nextMessage(child, 'ready')
  return {
    role,
    port,
    url: `http://${HOST}:${port}`,
    async cpuMicros() {
      return (await ask(child, 'cpu', 'cpu')).micros
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      const { maxRssKiB } = await ask(child, 'stop', 'stopped')
      await exited
      return maxRssKiB
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
