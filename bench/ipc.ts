import type { ChildProcess } from 'node:child_process'

/**
 * A reader of a forked server's IPC messages of type M: `next(child, type)` resolves with the
 * child's next message of that type, and rejects if the child exits first (naming `who`).
 */
export function messagesOf<M extends { type: string }>(who: string) {
  return <T extends M['type']>(child: ChildProcess, type: T): Promise<Extract<M, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: M) => {
        if (message.type !== type) return
        settle()
        resolve(message as Extract<M, { type: T }>)
      }
      const onExit = (code: number | null, signal: string | null) => {
        settle()
        reject(new Error(`${who} exited (${signal ?? code}) before "${type}"`))
      }
      const settle = () => {
        child.off('message', onMessage)
        child.off('exit', onExit)
      }
      child.on('message', onMessage)
      child.on('exit', onExit)
    })
}
