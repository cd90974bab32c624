import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { generateSessionKey } from '../../src/sessions/jwt.js'
import { childEnv } from './child-env.js'

const root = new URL('../..', import.meta.url).pathname

export interface CliRun {
  /** The exit code; null when the process was killed. */
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the real `latchkey …args` (through tsx, so no build is needed) with exactly the settings
 * given: a developer's exported settings never leak in. Resolves whatever the exit code.
 */
export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { cwd: root, env: childEnv(env, { clean: true }), timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** A fresh empty directory, removed at the test's teardown. */
export function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** LINK_SECRETS, SESSION_KEYS and API_KEYS, as an operator sets them for a command. */
export async function secretsEnv(): Promise<Record<string, string>> {
  return {
    LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
    SESSION_KEYS: JSON.stringify([await generateSessionKey()]),
    API_KEYS: generateApiKey('ops', 'admin').entry,
  }
}
