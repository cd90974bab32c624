import { withDeps } from './deps.js'

export async function migrate(): Promise<void> {
  await withDeps((deps) => deps.store.migrate(), { sendsEmail: false })
  process.stdout.write('Migrations are up to date.\n')
}
