/**
 * `npm run soak`: endurance. A realistic mix of requests (bench/mix.ts: issue, verify one-time
 * and reusable, refresh, introspect, a forged token, the hosted pages from the form to sign-out)
 * at half of the peak rate, for ten minutes, over real HTTP on 127.0.0.1. The service runs from
 * its build (dist/, which `npm run soak` brings up to date first) in a plain-node process of its
 * own (bench/servers.mjs, role soak), as the bench runs it, and reports its RSS, heap and
 * event-loop delay every few seconds.
 *
 * First a calibration: the mix at full speed (32 connections) for SOAK_CALIBRATE_SECONDS, whose
 * rate, halved, is what the soak then drives (autocannon's overallRate, 32 connections). Prints a
 * table per minute (req/s, p99 latency, RSS, heap, event-loop delay p50/p99, 5xx, errors) and the
 * verdict: RSS and event-loop delay p99 of the last minute at most 10% above the second's
 * (bench/soak-report.ts), no 5xx,
 * no error (a request without an answer, or an answer the mix did not expect: the forged token's
 * 401 token_invalid is expected, any other 4xx is not). Exits 1 when any check fails.
 *
 * Rate limits: one load generator on one address is every user at once, so the per-IP limits of
 * the pages (RATE_LIMIT_IP, RATE_LIMIT_FORM_IP) and the per-inbox limit (RATE_LIMIT_RECIPIENT:
 * each pass emails or issues three links to its user) are set to 1,000,000,000 a minute: they
 * still count every request, in the process's own counters, as they do in production, and are
 * never reached. The per-API-key limit stays at its default. Links go to SOAK_USERS addresses
 * (5,000), created by the first links; with the log mail transport, the emails the form sends are
 * printed to the server's stdout, which goes nowhere.
 *
 * Environment: SOAK_MINUTES (10); SOAK_SECONDS (the run's length in seconds instead, for short
 * checks); SOAK_WINDOW_SECONDS (60: one row of the table); SOAK_CALIBRATE_SECONDS (20);
 * SOAK_RATE (requests a second: no calibration); SOAK_USERS (5000); SOAK_SAMPLE_MS (5000: how
 * often the server measures itself). SOAK_FAULT puts a failure in on purpose (BENCH_FAULT in
 * bench/servers.mjs), for the test that shows failures are seen.
 */
import autocannon from 'autocannon'
import { MixTally, mixRequests } from './mix.js'
import { CONNECTIONS, positiveInt } from './options.js'
import { mib, printMachine } from './report.js'
import { out, runBench } from './run.js'
import { type SoakServer, startSoakServer } from './soak-harness.js'
import { table, verdict, Windows } from './soak-report.js'

const MINUTES = positiveInt('SOAK_MINUTES', 10)
const SECONDS = positiveInt('SOAK_SECONDS', MINUTES * 60)
const WINDOW_SECONDS = positiveInt('SOAK_WINDOW_SECONDS', 60)
const CALIBRATE_SECONDS = positiveInt('SOAK_CALIBRATE_SECONDS', 20)
const FIXED_RATE = process.env.SOAK_RATE ? positiveInt('SOAK_RATE', 1) : undefined
const USERS = positiveInt('SOAK_USERS', 5000)
const SAMPLE_MS = positiveInt('SOAK_SAMPLE_MS', 5000)
const HUGE = '1000000000/1m'

async function main(): Promise<number> {
  if (USERS < CONNECTIONS * 4) throw new Error(`SOAK_USERS must be at least ${CONNECTIONS * 4}`)
  const server = await startSoakServer({
    env: { RATE_LIMIT_IP: HUGE, RATE_LIMIT_FORM_IP: HUGE, RATE_LIMIT_RECIPIENT: HUGE },
    sampleMs: SAMPLE_MS,
    fault: process.env.SOAK_FAULT,
  })
  const tally = new MixTally()
  const requests = mixRequests(server, USERS, tally)

  printMachine('latchkey soak: the realistic mix at half of its peak rate')

  let calibration = { fiveXx: 0, errors: 0 }
  let rate = FIXED_RATE
  if (rate === undefined) {
    const counted = { fiveXx: 0, errors: 0 }
    tally.onWrong = () => counted.errors++
    const result = await fire(
      server,
      requests,
      { duration: CALIBRATE_SECONDS },
      (status) => {
        if (status >= 500) counted.fiveXx++
      },
      () => counted.errors++,
    )
    const peak = result.requests.total / CALIBRATE_SECONDS
    rate = Math.max(1, Math.floor(peak / 2))
    calibration = counted
    out(
      `peak ${peak.toFixed(0)} req/s at full speed (${CALIBRATE_SECONDS} s, ${CONNECTIONS} connections); ` +
        `soak at ${rate} req/s`,
    )
  } else {
    out(`soak at ${rate} req/s (SOAK_RATE)`)
  }
  out(`run  ${SECONDS} s in windows of ${WINDOW_SECONDS} s, ${USERS} users, SQLite`)
  out()

  const windows = new Windows(Math.ceil(SECONDS / WINDOW_SECONDS), WINDOW_SECONDS * 1000)
  tally.onWrong = () => windows.error()
  const started = performance.now()
  const progress = setInterval(() => {
    const done = server.samples.at(-1)
    process.stderr.write(
      `soak: ${Math.round((performance.now() - started) / 1000)} s of ${SECONDS}, ` +
        `server RSS ${done ? mib(done.rssBytes / 1024) : '? MiB'}\n`,
    )
  }, WINDOW_SECONDS * 1000)
  const result = await fire(
    server,
    requests,
    { duration: SECONDS, overallRate: rate },
    (status, ms) => windows.response(status, ms),
    () => windows.error(),
  ).finally(() => clearInterval(progress))
  // The samples of the last window arrive up to SAMPLE_MS after it ends.
  await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS + 200))
  const exit = server.exit()
  const stopped = exit ? undefined : await server.stop()

  const rows = windows.rows(server.samples)
  for (const line of table(rows, WINDOW_SECONDS)) out(line)
  out()
  out(
    `total ${result.requests.total} requests, ${result.non2xx} non-2xx ` +
      `(the forged token's 401s and the pages' 303s among them), ${result.errors} failed, ${result.timeouts} timed out`,
  )
  out(
    `server peak RSS (maxRSS) ${stopped ? mib(stopped.maxRssKiB) : '? MiB'}, ` +
      `load generator ${mib(process.resourceUsage().maxRSS)}`,
  )
  out(
    `answers by step, calibration included: ${[...tally.answered].map(([s, n]) => `${s} ${n}`).join(', ')}`,
  )
  if (tally.wrong.size > 0) {
    out('unexpected answers:')
    for (const [what, n] of tally.wrong) out(`  ${n} × ${what}`)
  }
  const checks = verdict(rows, calibration)
  if (exit) checks.push({ name: 'server alive', ok: false, detail: exit })
  if (calibration.fiveXx + calibration.errors > 0) {
    out(`calibration: ${calibration.fiveXx} 5xx, ${calibration.errors} errors (counted below)`)
  }
  out()
  for (const c of checks) out(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`)
  const failed = checks.filter((c) => !c.ok)
  out(failed.length === 0 ? 'SOAK PASSED' : `SOAK FAILED: ${failed.map((c) => c.name).join(', ')}`)
  return failed.length === 0 ? 0 : 1
}

function fire(
  server: SoakServer,
  requests: autocannon.Request[],
  options: { duration: number; overallRate?: number },
  onAnswer: (status: number, ms: number) => void,
  onFailure: () => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: server.url, connections: CONNECTIONS, pipelining: 1, ...options, requests },
      (error: unknown, result) => (error ? reject(error) : resolve(result)),
    )
    instance.on('response', (_client, status: number, _bytes: number, ms: number) =>
      onAnswer(status, ms),
    )
    instance.on('reqError', onFailure)
  })
}

await runBench(main, 'SOAK')
