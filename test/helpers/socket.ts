import { connect as netConnect, type Socket } from 'node:net'

/** A raw TCP connection to a test server, for what fetch and inject cannot do. */
export interface RawConnection {
  socket: Socket
  /** Everything the server sent so far. */
  received(): string
  /** Resolves when the server sends `text` (or more) in all; fails if the connection closes first. */
  receive(text: string | RegExp): Promise<string>
  /** Resolves once the connection is closed, with how long it stayed open since `since()`. */
  closed: Promise<{ openMs: number }>
  /** Restarts the clock `closed` measures from. */
  since(): void
}

/**
 * Opens a connection to 127.0.0.1:port. Waiting on it never sleeps: `closed` and `receive` are
 * events; `guardMs` bounds both, so a server that never closes fails the test instead of hanging.
 */
export function connect(port: number, guardMs = 15_000): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host: '127.0.0.1' })
    let data = ''
    let start = performance.now()
    let done = false
    const waiters: (() => void)[] = []
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      data += chunk
      for (const wake of waiters.splice(0)) wake()
    })
    socket.on('error', () => undefined)
    const closed = new Promise<{ openMs: number }>((resolveClosed, rejectClosed) => {
      const guard = setTimeout(() => {
        rejectClosed(new Error(`the server kept the connection open for ${guardMs} ms`))
        socket.destroy()
      }, guardMs)
      socket.once('close', () => {
        done = true
        clearTimeout(guard)
        for (const wake of waiters.splice(0)) wake()
        resolveClosed({ openMs: performance.now() - start })
      })
    })
    closed.catch(() => undefined)
    const connection: RawConnection = {
      socket,
      received: () => data,
      closed,
      since() {
        start = performance.now()
      },
      receive(text) {
        const has = () => (typeof text === 'string' ? data.includes(text) : text.test(data))
        return new Promise((resolveData, rejectData) => {
          const check = () => {
            if (has()) return resolveData(data)
            if (done)
              return rejectData(new Error(`closed before ${text}; got ${JSON.stringify(data)}`))
            waiters.push(check)
          }
          check()
        })
      },
    }
    socket.once('connect', () => resolve(connection))
    socket.once('error', reject)
  })
}

/** Status, lower-cased headers and body of the first HTTP/1.1 answer in `text`. */
export function parseAnswer(text: string): {
  status: number
  headers: Record<string, string>
  body: string
} {
  const end = text.indexOf('\r\n\r\n')
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = Number(headers['content-length'] ?? 0)
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: text.slice(end + 4, end + 4 + length),
  }
}
