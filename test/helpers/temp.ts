import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

/**
 * A fresh empty directory, removed at the test's teardown. Teardowns run last-registered first, so
 * anything started on it after this call (an app, a store) is closed before the directory goes.
 */
export function tempDir(t: Test, prefix = 'latchkey-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
