import type { App } from '../../src/http/types.js'

/**
 * For requests that arrive while the service stops: a route (GET `path`) that holds its answer
 * until released, so a connection stays open through close, and a signal once closing has begun.
 * Call before the app is ready.
 */
export function holdThroughClose(app: App, path = '/test/slow') {
  let release: () => void = () => undefined
  let started: () => void = () => undefined
  const held = new Promise<void>((resolve) => {
    started = resolve
  })
  app.get(path, async () => {
    started()
    await new Promise<void>((resolve) => {
      release = resolve
    })
    return { ok: true }
  })
  let closing: () => void = () => undefined
  const closingStarted = new Promise<void>((resolve) => {
    closing = resolve
  })
  app.addHook('preClose', async () => closing())
  return { held, closingStarted, release: () => release() }
}
