import t from 'tap'
import {
  CodeInvalid,
  ConfigError,
  InvalidRequest,
  RateLimited,
  TokenExpired,
  TokenInvalid,
  Unavailable,
} from '../src/errors.js'

// A client's error (4xx) is an expected answer and captures no stack trace: on the forged-token
// path the capture cost more than the HMAC. Ours (5xx, configuration) keep theirs for the log.
const frames = (error: Error): number =>
  (error.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).length

t.test('client errors carry their name and message but no stack frames', async (t) => {
  for (const error of [
    new TokenInvalid(),
    new TokenExpired('The link has expired.'),
    new InvalidRequest('bad', { cause: new Error('why') }),
    new CodeInvalid(),
    new RateLimited('slow down', 3),
  ]) {
    t.equal(frames(error), 0, `${error.name}: no frames`)
    t.equal(error.name, error.constructor.name)
    t.ok(error instanceof Error)
    t.match(String(error), error.message)
  }
  t.equal(new InvalidRequest('bad', { cause: 'why' }).cause, 'why', 'the cause is kept')
})

t.test('errors of ours keep their stack; the global limit is left as it was', async (t) => {
  const limit = Error.stackTraceLimit
  new TokenInvalid()
  t.equal(Error.stackTraceLimit, limit)
  t.ok(frames(new Unavailable('down')) > 0, 'Unavailable has frames')
  t.ok(frames(new ConfigError(['missing'])) > 0, 'ConfigError has frames')
  t.ok(frames(new Error('bug')) > 0, 'an ordinary error after a client error has frames')
})
