import t, { type Test } from 'tap'
import { childEnv, run } from '../helpers/process.js'

/**
 * `npm run soak` and `npm run fuzz` on a tiny budget: they build the service when dist/ is stale,
 * start it from there, drive it, report, and see a 5xx or a dead server when there is one (the
 * server breaks on purpose with SOAK_FAULT). Nothing here judges speed or flatness: those are
 * figures for a person to read.
 */

/** Matches without printing the whole output when it fails. */
const has = (t: Test, text: string, pattern: RegExp, what = String(pattern)) =>
  t.ok(pattern.test(text), what)

// As the npm scripts do: the server runs from the build.
const built = run(process.execPath, ['scripts/build-if-stale.mjs'], {
  env: childEnv(),
  timeoutMs: 300_000,
})

/** The script, once the build is up to date; the build's failure otherwise. */
const tsx = async (script: string, env: Record<string, string>) => {
  const build = await built
  if (build.code !== 0) return build
  return run(process.execPath, ['--import', 'tsx', script], {
    env: childEnv(env),
    timeoutMs: 120_000,
  })
}

// Two windows of two seconds: too short for the flatness checks, which say so.
const SHORT_SOAK = {
  SOAK_SECONDS: '4',
  SOAK_WINDOW_SECONDS: '2',
  SOAK_RATE: '400',
  SOAK_SAMPLE_MS: '500',
  SOAK_USERS: '200',
}

// Every run starts at once: each spends most of its time starting a server and waiting on it.
const runs = {
  soak: tsx('bench/soak.ts', SHORT_SOAK),
  soak5xx: tsx('bench/soak.ts', { ...SHORT_SOAK, SOAK_FAULT: '5xx:40' }),
  fuzz: tsx('bench/fuzz.ts', { FUZZ_REQUESTS: '1000' }),
  fuzz5xx: tsx('bench/fuzz.ts', { FUZZ_REQUESTS: '1000', SOAK_FAULT: '5xx:200' }),
  fuzzCrash: tsx('bench/fuzz.ts', { FUZZ_REQUESTS: '1000', SOAK_FAULT: 'crash:300' }),
}

t.test('the soak drives the mix, reports every window and passes', async (t) => {
  const ran = await runs.soak
  t.equal(ran.code, 0, ran.stderr.slice(-2000))
  has(t, ran.stdout, /^commit [0-9a-f]{7,}/m, 'the commit measured')
  has(t, ran.stdout, /\|\s+2 s \|\s+req\/s \|\s+p99 ms \|\s+RSS MiB \|/, 'the table')
  const rows = ran.stdout.split('\n').filter((l) => /^\|\s+\d+ \|/.test(l))
  t.equal(rows.length, 2, 'one row per window')
  has(t, ran.stdout, /ok {3}5xx: 0/)
  has(t, ran.stdout, /ok {3}errors: 0/)
  has(t, ran.stdout, /flat: not judged/)
  // How far the passes get in four seconds depends on the machine: only the first step is sure.
  has(
    t,
    ran.stdout,
    /answers by step, calibration included: issue [1-9]/,
    'the mix was answered, step by step',
  )
  has(t, ran.stdout, /SOAK PASSED/)
})

t.test('the soak fails on 5xx answers', async (t) => {
  const ran = await runs.soak5xx
  t.equal(ran.code, 1)
  has(t, ran.stdout, /FAIL 5xx: [1-9]/)
  has(t, ran.stdout, /SOAK FAILED/)
})

t.test('the fuzz sends its requests and checks the server at the end', async (t) => {
  const ran = await runs.fuzz
  t.equal(ran.code, 0, ran.stderr.slice(-2000))
  has(t, ran.stdout, /seed 20261121/, 'the seed, for a replay')
  has(t, ran.stdout, /sent 1000 requests/)
  has(t, ran.stdout, /answers by status: .*\b400 \d+/)
  has(t, ran.stdout, /ok {3}GET \/healthz: 200/)
  has(t, ran.stdout, /→ [\d.]+ MiB at the end; peak [\d.]+ MiB/)
  has(t, ran.stdout, /FUZZ PASSED/)
})

t.test('the fuzz prints the request of a 5xx and fails', async (t) => {
  const ran = await runs.fuzz5xx
  t.equal(ran.code, 1)
  has(t, ran.stdout, /5xx at request \d+ \(batch seed \d+, index \d+\):\n {2}\S+ "\//)
  has(t, ran.stdout, /→ 500 /)
  has(t, ran.stdout, /FUZZ FAILED/)
})

t.test('the fuzz sees a server that died', async (t) => {
  const ran = await runs.fuzzCrash
  t.equal(ran.code, 1)
  has(t, ran.stdout, /the server exited with code 70; the last requests sent before:/)
  has(t, ran.stdout, /FAIL server alive: exited with code 70/)
})
