import type { AddressInfo, Socket } from 'node:net'
import { SMTPServer, type SMTPServerSession } from 'smtp-server'

/** An email the server accepted (answered 250 to the end of its DATA), as it arrived. */
export interface SmtpEmail {
  /** The envelope: MAIL FROM and RCPT TO. */
  mailFrom: string
  rcptTo: string[]
  /** Header values by lower-cased name, decoded (RFC 2047 words). */
  headers: Record<string, string>
  subject: string
  text: string | undefined
  html: string | undefined
  messageId: string | undefined
  /** Who authenticated, when someone did. */
  user: string | undefined
  raw: string
}

/** A reply code and text, as the server gives it instead of accepting. */
interface Refusal {
  code: number
  message: string
}

type Behaviour =
  | { kind: 'refuse'; at: 'rcpt' | 'data'; refusal: Refusal }
  | { kind: 'drop' }
  | { kind: 'stall'; ms: number }

export interface FakeSmtp {
  readonly port: number
  readonly user: string
  readonly password: string
  /** `smtp://user:password@127.0.0.1:port`, the credentials percent-encoded. */
  readonly url: string
  readonly emails: SmtpEmail[]
  /** Transactions that reached MAIL FROM, accepted or not. */
  readonly attempts: number
  /** The next transaction is refused with `code` at RCPT TO or at the end of DATA. */
  refuse(at: 'rcpt' | 'data', code: number, message?: string): FakeSmtp
  /** The next transaction's connection is cut once part of the message has arrived. */
  drop(): FakeSmtp
  /** The next transaction's end of DATA is answered only after `ms` (it is then accepted). */
  stall(ms: number): FakeSmtp
  /** Resolves with the next email to `to`, each handed out once, in arrival order. */
  nextEmail(to: string, waitMs?: number): Promise<SmtpEmail>
  /** Stops listening and cuts every connection. */
  close(): Promise<void>
}

/**
 * A real SMTP server (the smtp-server package) on 127.0.0.1, port chosen by the system, that wants
 * AUTH PLAIN or LOGIN (over plain text: loopback only, STARTTLS switched off) and keeps what it
 * accepts. What happens to the next transactions can be scripted.
 */
export async function startFakeSmtp(
  options: { user?: string; password?: string } = {},
): Promise<FakeSmtp> {
  const user = options.user ?? 'latchkey'
  const password = options.password ?? 'p@ss/w:rd%'
  const emails: SmtpEmail[] = []
  const script: Behaviour[] = []
  const plans = new Map<string, Behaviour | undefined>()
  const sockets = new Map<string, Socket>()
  const handedOut = new Map<string, number>()
  const waiters = new Set<() => void>()
  let attempts = 0

  const refusal = (r: Refusal) => Object.assign(new Error(r.message), { responseCode: r.code })
  const socketOf = (session: SMTPServerSession) =>
    sockets.get(`${session.remoteAddress}:${session.remotePort}`)

  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) {
        callback(null, { user })
        return
      }
      callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }))
    },
    onMailFrom(_address, session, callback) {
      attempts++
      plans.set(session.id, script.shift())
      callback()
    },
    onRcptTo(_address, session, callback) {
      const plan = plans.get(session.id)
      if (plan?.kind === 'refuse' && plan.at === 'rcpt') callback(refusal(plan.refusal))
      else callback()
    },
    onData(stream, session, callback) {
      const plan = plans.get(session.id)
      if (plan?.kind === 'drop') {
        // Part of the message is in; the connection goes before the end of it is acknowledged.
        stream.once('data', () => socketOf(session)?.destroy())
        stream.resume()
        return
      }
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const finish = () => {
          if (plan?.kind === 'refuse' && plan.at === 'data') {
            callback(refusal(plan.refusal))
            return
          }
          const raw = Buffer.concat(chunks).toString('utf8')
          const { envelope } = session
          const mailFrom = envelope.mailFrom === false ? '' : envelope.mailFrom.address
          const rcptTo = envelope.rcptTo.map((r) => r.address)
          const authenticated = session.user === undefined ? undefined : String(session.user)
          emails.push({ mailFrom, rcptTo, user: authenticated, raw, ...parseMessage(raw) })
          for (const wake of waiters) wake()
          callback(null, 'Ok: queued')
        }
        if (plan?.kind === 'stall') setTimeout(finish, plan.ms).unref()
        else finish()
      })
    },
  })
  server.server.on('connection', (socket: Socket) => {
    const key = `${socket.remoteAddress}:${socket.remotePort}`
    sockets.set(key, socket)
    socket.on('close', () => sockets.delete(key))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  // A refused or cut connection is part of what the tests do, not a failure of the server.
  server.on('error', () => undefined)
  const port = (server.server.address() as AddressInfo).port

  const fake: FakeSmtp = {
    port,
    user,
    password,
    url: `smtp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    emails,
    get attempts() {
      return attempts
    },
    refuse(at, code, message = `${code} scripted refusal`) {
      script.push({ kind: 'refuse', at, refusal: { code, message } })
      return fake
    },
    drop() {
      script.push({ kind: 'drop' })
      return fake
    },
    stall(ms) {
      script.push({ kind: 'stall', ms })
      return fake
    },
    nextEmail(to, waitMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const index = handedOut.get(to) ?? 0
          const email = emails.filter((e) => e.rcptTo.includes(to))[index]
          if (email === undefined) return false
          handedOut.set(to, index + 1)
          waiters.delete(check)
          clearTimeout(timer)
          resolve(email)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(
            new Error(`no email #${(handedOut.get(to) ?? 0) + 1} to ${to} within ${waitMs} ms`),
          )
        }, waitMs)
        if (!check()) waiters.add(check)
      })
    },
    close() {
      for (const socket of sockets.values()) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return fake
}

/**
 * Just enough MIME for what nodemailer writes: headers, and a text/plain and a text/html part,
 * alone or inside multipart/alternative (or mixed), in 7bit, quoted-printable or base64.
 */
export function parseMessage(
  raw: string,
): Pick<SmtpEmail, 'headers' | 'subject' | 'text' | 'html' | 'messageId'> {
  const { headers, body } = splitEntity(raw)
  const parts: { text?: string; html?: string } = {}
  collectParts(headers, body, parts)
  return {
    headers,
    subject: headers.subject ?? '',
    text: parts.text,
    html: parts.html,
    messageId: headers['message-id'],
  }
}

function splitEntity(entity: string): { headers: Record<string, string>; body: string } {
  const end = entity.search(/\r?\n\r?\n/)
  const head = end === -1 ? entity : entity.slice(0, end)
  const body = end === -1 ? '' : entity.slice(end).replace(/^\r?\n\r?\n/, '')
  const headers: Record<string, string> = {}
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim())
  }
  return { headers, body }
}

function collectParts(
  headers: Record<string, string>,
  body: string,
  into: { text?: string; html?: string },
): void {
  const type = headers['content-type'] ?? 'text/plain'
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1]
  if (/^multipart\//i.test(type) && boundary !== undefined) {
    const sections = body.split(`--${boundary}`).slice(1)
    for (const section of sections) {
      if (section.startsWith('--')) break
      const part = splitEntity(section.replace(/^\r?\n/, ''))
      collectParts(part.headers, part.body, into)
    }
    return
  }
  const decoded = decodeBody(body, headers['content-transfer-encoding'] ?? '7bit')
  if (/^text\/html/i.test(type)) into.html ??= decoded
  else if (/^text\/plain/i.test(type)) into.text ??= decoded
}

function decodeBody(body: string, encoding: string): string {
  // Lines end in CRLF on the wire; the message was written with LF.
  const trimmed = body.replace(/\r?\n$/, '')
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(trimmed.replace(/\s+/g, ''), 'base64')
        .toString('utf8')
        .replace(/\r\n/g, '\n')
    case 'quoted-printable':
      return quotedPrintable(trimmed.replace(/=\r?\n/g, '')).replace(/\r\n/g, '\n')
    default:
      return trimmed.replace(/\r\n/g, '\n')
  }
}

function quotedPrintable(text: string): string {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3)
    if (text[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16))
      i += 2
    } else {
      bytes.push(...Buffer.from(text[i] as string, 'utf8'))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/** RFC 2047 encoded words, as nodemailer writes a subject that is not plain ASCII. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_all, _charset, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : quotedPrintable(text.replace(/_/g, ' ')),
    )
}
