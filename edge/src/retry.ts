/**
 * Backoff with full jitter for retries of work that must not be lost (CDR writes): about
 * 1 s, 2 s, 4 s ... capped at 5 minutes, each drawn uniformly from [50%, 100%] of the step.
 */
const BASE_MS = 1_000;
const CAP_MS = 5 * 60 * 1000;

export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}
