import { extraHeaders, type Mailer, type MailMessage, type SendOptions } from './mailer.js'

/**
 * Development transport: prints the message, link included, as one block on the console. This is
 * the one deliberate place a link reaches output; production refuses to start with it.
 */
export class LogTransport implements Mailer {
  constructor(private readonly write: (text: string) => void = (t) => process.stdout.write(t)) {}

  async send(message: MailMessage, _options?: SendOptions): Promise<{ providerId?: string }> {
    const rule = '-'.repeat(72)
    const headers = Object.entries(extraHeaders(message)).map(
      ([name, value]) => `${name}: ${value}\n`,
    )
    this.write(
      `${rule}\nTo: ${message.to}\nSubject: ${message.subject}\n${headers.join('')}\n${message.text}\n${rule}\n`,
    )
    return {}
  }
}
