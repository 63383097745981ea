/** How the billing console shows money and spend: pure, so it is tested without a page. */
import type { BillingPlanView, UsageRow } from '@callstack/protocol';

/**
 * `"0.045417"` in USD -> `$0.0454`: amounts under one unit keep four decimals (a call costs cents
 * and fractions of them), larger ones two. The edge's decimal string stays the exact figure.
 */
export function formatAmount(amount: string, currency: string): string {
  const value = Number(amount);
  const digits = value !== 0 && Math.abs(value) < 1 ? 4 : 2;
  return new Intl.NumberFormat('en', { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: digits }).format(value);
}

/** How much of a cap is used, 0 to 100 (whole percent, rounded down so 99.9% never shows as full); null without a cap. */
export function capUsed(spent: string, cap: string | null): number | null {
  if (cap === null) return null;
  const limit = Number(cap);
  if (limit === 0) return 100;
  return Math.min(100, Math.floor((Number(spent) / limit) * 100));
}

/** Billed time as people read it: `45 s`, `12 min`, `3 h 05 min`. */
export function formatBilled(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A usage row's name: a day as a date, a person's name, a destination; `No one` and `Not in the plan` come from the edge. */
export function usageLabel(row: UsageRow, by: 'day' | 'user' | 'destination'): string {
  if (by !== 'day' || row.key === null) return row.label;
  return new Date(`${row.key}T00:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/** The limits form: an empty field is no cap. */
export function limitsFrom(draft: { dailyCap: string; monthlyCap: string }): { dailyCap: string | null; monthlyCap: string | null } {
  const cap = (text: string) => (text.trim() === '' ? null : text.trim());
  return { dailyCap: cap(draft.dailyCap), monthlyCap: cap(draft.monthlyCap) };
}

/** `, 100 minutes a person and 500 for the organisation included`; empty when the plan includes none. */
export function includedMinutes(plan: Pick<BillingPlanView, 'includedMinutesPerSeat' | 'includedMinutesPerTenant'>): string {
  const parts = [
    plan.includedMinutesPerSeat > 0 ? `${plan.includedMinutesPerSeat.toLocaleString('en')} minutes a person` : null,
    plan.includedMinutesPerTenant > 0 ? `${plan.includedMinutesPerTenant.toLocaleString('en')} for the organisation` : null,
  ].filter((part) => part !== null);
  return parts.length ? `, ${parts.join(' and ')} included` : '';
}
