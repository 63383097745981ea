/**
 * Loaded before every Node test file by scripts/test.ts: fast-check runs from one fixed seed, so a
 * property that fails in CI fails the same way on a laptop. `CALLSTACK_FUZZ_SEED=random` (what
 * `npm run fuzz` sets, with more runs) draws a new seed and prints it; setting it to that number
 * replays the run.
 */
import fc from 'fast-check';

const requested = process.env.CALLSTACK_FUZZ_SEED ?? '20261202';
const seed = requested === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(requested);
if (!Number.isInteger(seed)) throw new Error(`CALLSTACK_FUZZ_SEED must be a whole number or "random", not ${requested}`);
if (requested === 'random') console.log(`fast-check seed ${seed} (CALLSTACK_FUZZ_SEED=${seed} replays this run)`);
fc.configureGlobal({ seed });
