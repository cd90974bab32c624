import { SETTINGS } from '../../src/config/index.js'

/**
 * The environment for a child process a test starts (the CLI, the service):
 * - without coverage collection: a child runs the same sources through another loader, and
 *   merging its coverage with the test process's misreports both, so coverage counts what tests
 *   run in-process;
 * - with `clean`, without any latchkey setting (nor its NAME_FILE) a developer has exported, so
 *   only what the test gives can change what the child does.
 */
export function childEnv(
  extra: Record<string, string | undefined> = {},
  options: { clean?: boolean } = {},
): Record<string, string | undefined> {
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
