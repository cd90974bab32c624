import Type from 'typebox'
import * as parse from './parsers.js'
import { row } from './setting.js'
import { RateSchema } from './values.js'

/** A rate limit, `count/window` or `off`. */
const rate = (path: string, fallback: string, doc: string) =>
  row({
    path,
    schema: Type.Union([RateSchema, Type.Null()]),
    parse: parse.rate,
    default: fallback,
    expected: { is: 'a rate', fix: 'set count/window, like 60/1m (s, m or h), or off' },
    doc,
  })

/** The rows of the rate limits (settings.ts keeps the table), each `count/window` or `off`. */
export const RATE_SETTINGS = {
  // The default limits, each a judgement between abuse and the people it must never stop:
  // - ip: a sign-in from one browser takes about six requests (form, stylesheet, post, confirm
  //   page, confirm post). 60 a minute lets an office behind one NAT address sign in several
  //   people a minute, and holds a script on one address to one request a second.
  // - apiKey: a safety net against a runaway or stolen backend key, not a quota: no backend may
  //   reach it in normal use, however busy. A backend calls on behalf of all its users (a link
  //   and a verify per sign-in, a refresh per session every SESSION_TTL, and for some an
  //   introspection per request of their own), so its rate follows its traffic, not a person's.
  //   One instance serves at most some thousands of these a second (each signs or checks a JWT;
  //   see `npm run bench`), so 6,000,000 a minute (100,000 a second, in a window long enough to
  //   absorb any burst) is out of reach of one instance at full load: a busy backend is slowed
  //   by capacity, never refused by this limit. What it still stops is one key driving a fleet
  //   of instances (which count together through Redis) far past any normal load for minutes on
  //   end. A deployment that wants a real ceiling per backend sets its own.
  // - recipient: a person who does not see the email presses "send" again, perhaps twice more;
  //   5 emails per address in 15 minutes allows that, and holds anyone bombing an inbox through
  //   our form or a careless backend to 20 emails an hour.
  // - code: guesses at the sign-in code of one inbox. A code has 40 bits; 5 tries per 15 minutes
  //   is 480 a day, so guessing one takes about 10^9 days on average, while a person who mistypes
  //   still has four more tries. Every attempt counts (right or wrong: counting only wrong ones
  //   would need a second round trip, and would race), and asking for a new email does not reset
  //   it: it is a counter of its own.
  RATE_LIMIT_IP: rate(
    'rateLimits/ip',
    '60/1m',
    'requests per client IP to the pages, JWKS and docs; see [Rate limits](#rate-limits)',
  ),
  RATE_LIMIT_API_KEY: rate(
    'rateLimits/apiKey',
    '6000000/1m',
    'requests per API key: a safety net no backend reaches in normal use',
  ),
  RATE_LIMIT_RECIPIENT: rate(
    'rateLimits/recipient',
    '5/15m',
    'sign-in emails per inbox (Gmail: dots and `+tags` ignored)',
  ),
  RATE_LIMIT_CODE: rate(
    'rateLimits/code',
    '5/15m',
    'sign-in code attempts per inbox, right or wrong; a new email does not reset it',
  ),
  RATE_LIMIT_FORM_IP: rate(
    'rateLimits/formIp',
    '10/15m',
    'sign-in emails asked for through the hosted form, per client IP',
  ),
}
