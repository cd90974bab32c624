import { TokenInvalid, TokenRevoked, TokenUsed, UserDisabled } from '../errors.js'
import type { User, UserStore } from '../store/users.js'
import { Flag, hasFlag, type TokenFields } from '../tokens/codec.js'

/**
 * The one database read of the verify path, after the MAC and expiry have passed. The order gives
 * the most useful reason first: a deleted or disabled user, then revocation, then reuse.
 */
export async function loadTokenUser(store: UserStore, fields: TokenFields): Promise<User> {
  const user = await store.findById(fields.userId)
  assertCurrent(user, fields)
  return user
}

export function assertCurrent(
  user: User | undefined,
  fields: Pick<TokenFields, 'flags' | 'rev' | 'seq'>,
): asserts user is User {
  // A deleted user's tokens name nobody; a user re-created with the same email has a new id.
  if (!user) throw new TokenInvalid()
  if (user.status !== 'active') throw new UserDisabled()
  if (user.rev !== fields.rev) throw new TokenRevoked()
  if (hasFlag(fields.flags, Flag.OneTime) && user.seq !== fields.seq) throw new TokenUsed()
}
