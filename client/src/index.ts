export {
  type AnswerOf,
  type ClientOptions,
  createClient,
  type LatchkeyClient,
  type QueryOf,
  type RequestOf,
} from './api.js'
export type { components, operations, paths } from './api-types.js'
export { LatchkeyError, type LatchkeyErrorCode, type Problem, type ProblemCode } from './errors.js'
export { type LatchkeyRequest, latchkeyMiddleware } from './express.js'
export type { Revocation, RevocationPage, SetTimer } from './revocations.js'
export {
  createVerifier,
  type SessionClaims,
  type Verifier,
  type VerifierOptions,
} from './verifier.js'
