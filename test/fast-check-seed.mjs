// Loaded before every test file (see .taprc): property tests run the same cases on every machine
// and every run, so CI is deterministic. Set FC_SEED to explore other cases locally.
import fc from 'fast-check'

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261121) })
