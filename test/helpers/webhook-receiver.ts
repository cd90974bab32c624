import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

/** A request the receiver saw, whatever it answered. */
export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
  /** The status it answered; undefined while it hangs, or when it never answered. */
  status: number | undefined
}

/** What the receiver does with a request: answer with a status (and headers), or never answer. */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang'

export interface WebhookReceiver {
  /** Where to send webhooks: `http://127.0.0.1:<port>/hooks`. */
  readonly url: string
  readonly received: Received[]
  /** How every request from now on is answered (204 at first). */
  answer: Answer | ((request: Received) => Answer)
  /** Requests answered 2xx, in order. */
  delivered(): Received[]
  /** Stops listening and drops every connection, hanging ones included: the receiver is down. */
  stop(): Promise<void>
  /** Listens again on the same port, keeping what it recorded. */
  restart(): Promise<void>
}

/**
 * A webhook receiver like a backend's: node:http on 127.0.0.1, port 0, recording every request
 * as it arrived (raw body and headers, for the signature check). Closed at the test's teardown.
 */
export async function startReceiver(t: Test, path = '/hooks'): Promise<WebhookReceiver> {
  const received: Received[] = []
  const hanging = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request: Received = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status: undefined,
      }
      received.push(request)
      const answer =
        typeof receiver.answer === 'function' ? receiver.answer(request) : receiver.answer
      if (answer === 'hang') {
        hanging.add(res)
        return
      }
      request.status = answer.status
      res.writeHead(answer.status, answer.headers).end()
    })
  })
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve((server.address() as AddressInfo).port)
      })
    })
  const port = await listen(0)
  const stop = async () => {
    if (!server.listening) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    hanging.clear()
    server.closeAllConnections()
    await closed
  }
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    answer: { status: 204 },
    delivered: () => received.filter((r) => r.status !== undefined && r.status < 300),
    stop,
    restart: async () => {
      await listen(port)
    },
  }
  t.teardown(stop)
  return receiver
}
