import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `check` every `everyMs` until it holds (returns anything but false, null or undefined) and
 * returns what it returned; fails after `seconds`, naming `what`. For conditions, never for time.
 */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string,
  seconds = 60,
  everyMs = 100,
): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + seconds * 1000
  for (;;) {
    const value = await check()
    if (value !== false && value !== null && value !== undefined) {
      return value as Exclude<T, false | null | undefined>
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(everyMs)
  }
}
