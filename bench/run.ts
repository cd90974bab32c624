/**
 * The life of a bench script: what it made (child processes, a temporary directory, a database
 * of its own) is undone at the end, whether it finished, failed or was interrupted.
 */

const undo: (() => void | Promise<void>)[] = []
let cleaning: Promise<void> | undefined
let interrupted = false

/** Registers something to undo at the end, last registered first; returns the same function. */
export function atExit<T extends () => void | Promise<void>>(fn: T): T {
  undo.push(fn)
  return fn
}

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of undo.reverse()) {
      try {
        await fn()
      } catch (error) {
        process.stderr.write(`bench clean-up: ${error instanceof Error ? error.message : error}\n`)
      }
    }
  })()
  return cleaning
}

/**
 * Runs a bench's main: its answer is the exit code, a throw is a failed run (`${what} FAILED` and
 * the error).
 */
export async function runBench(main: () => Promise<number>, what = 'BENCHMARK'): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true
      void cleanUp().then(() => process.exit(signal === 'SIGINT' ? 130 : 143))
    })
  }
  try {
    process.exitCode = await main()
  } catch (error) {
    // Interrupted, what main was waiting for went away: nothing to report.
    if (!interrupted) {
      process.stderr.write(`\n${what} FAILED: ${error instanceof Error ? error.stack : error}\n`)
    }
    process.exitCode = 1
  } finally {
    await cleanUp()
  }
}

export const out = (text = ''): void => void process.stdout.write(`${text}\n`)
