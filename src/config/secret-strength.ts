/**
 * Why bytes that are meant to be a random secret are not one, or undefined when nothing shows.
 *
 * No test can prove randomness; these catch the secrets people actually write instead of
 * generating one: a filler (all zeros, `AAAA…`), a short pattern repeated, a counting sequence,
 * a handful of byte values, and text (a password, a passphrase, or a hex or base64 string
 * encoded once more), which no generator of random bytes produces. Each bound is set so that
 * random bytes of 32 or more fail it with a probability below 10^-13 (computed exactly for 32
 * bytes: fewer than 16 distinct values among 32 bytes, 3·10^-17; among the 31 differences,
 * 5·10^-16; all 32 bytes printable, (98/256)^32 < 5·10^-14; a period of at most 16,
 * below 10^-38), so a secret from `latchkey keys` or any CSPRNG never trips them.
 */
export function weakSecretReason(bytes: Uint8Array): string | undefined {
  const distinct = new Set(bytes).size
  if (distinct < MIN_DISTINCT) {
    return `takes only ${distinct} distinct byte value${distinct === 1 ? '' : 's'}`
  }
  const period = shortestPeriod(bytes)
  if (period <= bytes.length / 2) return `repeats a pattern of ${period} bytes`
  // A counting or stepping sequence (0, 1, 2 … or 0, 3, 6 …) has many distinct bytes but few
  // distinct steps between neighbours.
  const steps = new Set(bytes.subarray(1).map((b, i) => (b - (bytes[i] as number)) & 0xff))
  if (steps.size < MIN_DISTINCT) return 'counts or steps through values'
  if (bytes.every((b) => (b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d)) {
    return 'is text (a password or an encoded string), not random bytes'
  }
  return undefined
}

/** Distinct values (of bytes, and of steps between neighbours) a secret must at least take. */
const MIN_DISTINCT = 16

/** The smallest p with bytes[i] = bytes[i + p] throughout; the length when there is none. */
function shortestPeriod(bytes: Uint8Array): number {
  for (let p = 1; p < bytes.length; p++) {
    let repeats = true
    for (let i = p; i < bytes.length && repeats; i++) repeats = bytes[i] === bytes[i - p]
    if (repeats) return p
  }
  return bytes.length
}
