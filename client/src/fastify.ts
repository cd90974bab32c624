// Types only: this file must load where fastify is not installed (a bundle, a test of the
// package's runtime imports), so nothing of fastify's is imported at runtime.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { bearerOf, rejection } from './bearer.js'
import { LatchkeyError } from './errors.js'
import {
  createVerifier,
  type SessionClaims,
  type Verifier,
  type VerifierOptions,
} from './verifier.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The session's claims, on every route the plugin guards. Typed as always there (as
     * @fastify/jwt types `user`): on a route outside the plugin's context it is undefined.
     */
    latchkey: SessionClaims
  }
}

export type LatchkeyPluginOptions = { verifier: Verifier } | VerifierOptions

/**
 * Guards every route of the context it is registered in: a valid session JWT in
 * `Authorization: Bearer` sets `request.latchkey`; anything else is answered 401 (503 when the
 * JWKS or the feed cannot be reached) as problem+json with the code, before any handler runs.
 * Register it inside the plugin that holds the protected routes, as with any Fastify guard.
 */
async function latchkeyPlugin(app: FastifyInstance, options: LatchkeyPluginOptions) {
  const verifier = 'verifier' in options ? options.verifier : createVerifier(options)
  // A verifier made here is this plugin's to stop; one passed in belongs to the caller.
  if (!('verifier' in options)) app.addHook('onClose', async () => verifier.close())
  if (!app.hasRequestDecorator('latchkey'))
    app.decorateRequest<SessionClaims | undefined>('latchkey', undefined)
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      request.latchkey = await verifier.verify(bearerOf(request.headers.authorization))
    } catch (error) {
      if (!(error instanceof LatchkeyError)) throw error
      const { status, headers, body } = rejection(error)
      return reply.code(status).headers(headers).send(body)
    }
  })
}

// What fastify-plugin would set: the hook and the decorator apply to the context that
// registers the plugin, not to a child of it.
Object.assign(latchkeyPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'latchkey-client',
  [Symbol.for('plugin-meta')]: { name: 'latchkey-client', fastify: '5.x' },
})

export { latchkeyPlugin as latchkey }
export default latchkeyPlugin
