import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import type { Test } from 'tap'
import { SETTINGS } from '../../src/config/index.js'

/** The repository root: where every command a test runs starts. */
export const ROOT = new URL('../..', import.meta.url).pathname

type Env = Record<string, string | undefined>

/**
 * The environment for a child process a test starts (the CLI, the service, a shell):
 * - without coverage collection: a child runs the same sources through another loader, and
 *   merging its coverage with the test process's misreports both, so coverage counts what tests
 *   run in-process;
 * - with `clean`, without any latchkey setting (nor its NAME_FILE) a developer has exported, so
 *   only what the test gives can change what the child does.
 */
export function childEnv(extra: Env = {}, options: { clean?: boolean } = {}): Env {
  const env = { ...process.env }
  // tap follows children through NODE_OPTIONS (its processinfo hook) and NODE_V8_COVERAGE.
  delete env.NODE_V8_COVERAGE
  if (env.NODE_OPTIONS?.includes('@tapjs/processinfo')) delete env.NODE_OPTIONS
  for (const name of Object.keys(env)) {
    if (name.startsWith('_TAPJS_PROCESSINFO_')) delete env[name]
  }
  if (options.clean) {
    for (const name of SETTINGS) {
      delete env[name]
      delete env[`${name}_FILE`]
    }
  }
  return { ...env, ...extra }
}

/** `node --import tsx src/cli.ts …args`: the real `latchkey` command, with no build needed. */
export const LATCHKEY = (args: string[]) =>
  [process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args]] as const

export interface Ran {
  /** The exit code; null when the process was killed. */
  code: number | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  /** The child's whole environment (see childEnv); the test process's own when not given. */
  env?: Env
  timeoutMs?: number
}

/** Runs a command from the repository root to its end; resolves whatever the exit code. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: ROOT, env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** Like run, for a command that must succeed: throws with its output when it does not. */
export async function mustRun(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<Ran> {
  const ran = await run(file, args, options)
  if (ran.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${ran.code}:\n${ran.stdout}${ran.stderr}`)
  }
  return ran
}

export interface Running {
  child: ChildProcess
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** True while the process runs. */
  alive(): boolean
  /** SIGTERM (to its whole process group when started as one), then waits for the exit. */
  stop(): Promise<void>
}

/**
 * Starts a long-running command from the repository root, stopped at the test's teardown. With
 * `group`, the command leads a process group of its own and stopping ends the whole group (a
 * shell and what it started).
 */
export function startProcess(
  t: Test,
  file: string,
  args: readonly string[],
  options: { env?: Env; group?: boolean } = {},
): Running {
  const child = spawn(file, args, {
    cwd: ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group === true,
  })
  let output = ''
  let exited = false
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true
      resolve()
    })
  })
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const running: Running = {
    child,
    output: () => output,
    alive: () => !exited,
    async stop() {
      if (exited) return
      try {
        if (options.group && child.pid) process.kill(-child.pid, 'SIGTERM')
        else child.kill('SIGTERM')
      } catch {
        // already gone
      }
      await exit
    },
  }
  t.teardown(() => running.stop())
  return running
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Whether `base` answers GET /healthz with a 2xx: the service is up. */
export const healthy = (base: string): Promise<boolean> =>
  fetch(`${base}/healthz`).then(
    (r) => r.ok,
    () => false,
  )
