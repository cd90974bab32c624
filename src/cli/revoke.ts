import { revokeUser } from '../auth/revoke.js'
import { withDeps } from './deps.js'

export async function revoke(userId: string): Promise<void> {
  const result = await withDeps(
    (deps) => revokeUser(deps, userId.toLowerCase(), { actor: 'cli' }),
    {
      sendsEmail: false,
    },
  )
  process.stdout.write(`Revoked user ${result.userId}; rev is now ${result.rev}.\n`)
}
