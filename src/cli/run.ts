import { CommanderError } from 'commander'
import { ConfigError, LatchkeyError } from '../errors.js'
import { buildProgram, type Output } from './program.js'

const processOutput: Output = {
  writeOut: (text) => void process.stdout.write(text),
  writeErr: (text) => void process.stderr.write(text),
}

/**
 * Runs `latchkey …args` and returns the exit code: 0 done, 1 the command failed, 2 it was not
 * understood (commander has printed why). A failure is one message, not a stack trace; only a
 * bug is thrown on, its stack being what its report needs.
 */
export async function run(args: readonly string[], output = processOutput): Promise<number> {
  try {
    await buildProgram(output).parseAsync(args.length === 0 ? ['serve'] : [...args], {
      from: 'user',
    })
    return 0
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
    if (error instanceof ConfigError) {
      output.writeErr(
        `latchkey: the configuration is not usable:\n${error.problems.map((p) => `  - ${p}\n`).join('')}`,
      )
      return 1
    }
    if (error instanceof LatchkeyError) {
      // The operator at the shell may see the cause a client never does (a refused connection).
      const cause = error.cause instanceof Error ? ` (${describe(error.cause)})` : ''
      output.writeErr(`latchkey: ${error.message}${cause}\n`)
      return 1
    }
    if (isSystemError(error)) {
      // The world failed, not latchkey: a file that cannot be written, a refused connection.
      output.writeErr(`latchkey: ${describe(error)}\n`)
      return 1
    }
    throw error
  }
}

/** An AggregateError (a host with several addresses) has only a code. */
function describe(error: NodeJS.ErrnoException): string {
  return error.message || error.code || error.name
}

function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return error instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code)
}
