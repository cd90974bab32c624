import { ConfigError } from '../../src/errors.js'

/**
 * The problems a ConfigError lists when `run` refuses a configuration; fails the test (naming
 * `what`) when it accepts it, and rethrows any other error.
 */
export function configProblems(run: () => unknown, what = 'the configuration'): string[] {
  try {
    run()
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  throw new Error(`accepted ${what}`)
}
