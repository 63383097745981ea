/**
 * Figures a benchmark reports for `npm run bench` (all.ts): each bench prints its own lines as
 * before, and when BENCH_REPORT names a file, also appends its figures there as JSON lines.
 */
import { appendFileSync } from 'node:fs';

export interface Figure {
  bench: string;
  name: string;
  value: number;
  unit: string;
  /** The figure the platform aims for, and which side of it is good. */
  target?: { value: number; better: 'lower' | 'higher' };
  /** Conditions the figure was measured under (users, rate…), for the table. */
  conditions?: string;
}

export function report(figures: Figure[]): void {
  const file = process.env.BENCH_REPORT;
  if (!file) return;
  appendFileSync(file, figures.map((figure) => JSON.stringify(figure) + '\n').join(''));
}
