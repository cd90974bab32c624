/** Stand-in ids for addresses without a user (see auth/pseudonym.ts). */
export interface PhantomStore {
  /**
   * The stable id standing in for an address without a user, minted as a UUIDv7 on first use;
   * every call records that the address was asked for again. `key` is a keyed hash of the
   * address, never the address.
   */
  phantomId(key: string, now: number): Promise<string>
}
