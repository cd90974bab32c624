import { receiveResendWebhook } from '../../auth/delivery-feedback.js'
import {
  problemResponses,
  ResendWebhookHeadersSchema,
  ResendWebhookResponseSchema,
} from '../schemas.js'
import type { App, RouteDeps } from '../types.js'

/**
 * Resend's payloads are a few hundred bytes (addresses, subject, tags); anything near this is not
 * one. Larger is 413 before a byte is signed or stored.
 */
const BODY_LIMIT = 64 * 1024

/** The header as one string, or undefined (a header sent twice is not a signature). */
const single = (value: string | string[] | undefined) =>
  typeof value === 'string' ? value : undefined

/**
 * Mail provider callbacks. No API key: a callback is authenticated by its signature, which is
 * over the exact bytes sent, so this route alone keeps its body raw (any content type, as a
 * Buffer) and the use case checks the signature before anything parses it.
 *
 * No per-IP limit either: Resend posts from a few shared addresses, bursts of callbacks are
 * normal, and a throttled callback is retried for hours, delaying the suppression it carries.
 * A forged one costs one HMAC over at most BODY_LIMIT bytes and changes nothing.
 */
export function webhookRoutes(app: App, deps: RouteDeps): void {
  app.register(async (raw: App) => {
    raw.removeAllContentTypeParsers()
    raw.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_r, body, done) =>
      done(null, body),
    )
    raw.post(
      '/v1/webhooks/resend',
      {
        bodyLimit: BODY_LIMIT,
        schema: {
          operationId: 'resendWebhook',
          tags: ['webhooks'],
          summary: "Resend's delivery callbacks (delivered, delayed, bounced, complained)",
          description:
            'Signed by Resend (Svix headers, RESEND_WEBHOOK_SECRET); 404 while that is unset. A hard bounce or a complaint puts the inbox on the suppression list.',
          security: [],
          headers: ResendWebhookHeadersSchema,
          response: {
            200: ResendWebhookResponseSchema,
            ...problemResponses(400, 401, 404, 413, 503),
          },
        },
      },
      async (request) => {
        const { headers } = request
        const result = await receiveResendWebhook(deps, {
          headers: {
            id: single(headers['svix-id']),
            timestamp: single(headers['svix-timestamp']),
            signature: single(headers['svix-signature']),
          },
          body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        })
        return { result }
      },
    )
  })
}
