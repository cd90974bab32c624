import t from 'tap'
import { childEnv, run } from '../helpers/process.js'

/**
 * `npm run bench` on a tiny budget: it builds the service when dist/ is stale, starts latchkey and
 * the floors each in a process of its own, gets the expected answer to every request of every
 * scenario (it fails otherwise), and prints the table and every target line. Nothing here judges
 * the figures: they are for a person to read.
 */
t.test('the bench runs every scenario and prints every target', async (t) => {
  const env = childEnv({ BENCH_SECONDS: '1', BENCH_WARMUP_SECONDS: '1', BENCH_USERS: '320' })
  const built = await run(process.execPath, ['scripts/build-if-stale.mjs'], {
    env,
    timeoutMs: 300_000,
  })
  t.equal(built.code, 0, built.stderr.slice(-2000))
  const ran = await run(process.execPath, ['--import', 'tsx', 'bench/verify.ts'], {
    env,
    timeoutMs: 300_000,
  })
  t.equal(ran.code, 0, ran.stderr.slice(-2000))
  for (const row of [
    'signing floor: bare Fastify, jose sign',
    'bare Fastify, node:crypto sign (as latchkey)',
    'constant floor: bare Fastify, constant JSON',
    'latchkey verify, one-time link',
    'latchkey verify, reusable link',
    'latchkey refresh, rotating',
    'latchkey introspect',
    'latchkey reject a forged token',
  ]) {
    t.ok(ran.stdout.includes(`\n${row} `), row)
  }
  t.match(ran.stdout, /^commit [0-9a-f]{7,}/m, 'the commit')
  t.match(ran.stdout, /peak RSS \(maxRSS\): latchkey [\d.]+ MiB/, 'each server’s peak RSS')
  for (const target of [
    '(1) verify one-time',
    '(2) forged token',
    '(3) refresh',
    '(4) p99',
    '(5) peak RSS',
  ]) {
    t.match(
      ran.stdout,
      new RegExp(`^${target.replace(/[()]/g, '\\$&')}: .*(met|NOT met)$`, 'm'),
      target,
    )
  }
  t.notMatch(ran.stdout + ran.stderr, /Bearer |eyJ[\w-]+\./, 'no API key or JWT in what it prints')
})
