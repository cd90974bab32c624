export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
}

/** One transport behind one method. Rejects when the message was not accepted for delivery. */
export interface Mailer {
  send(message: MailMessage): Promise<void>
}
