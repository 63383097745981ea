/**
 * Billing on the wire: a tenant's plan, spend caps and standing, and its usage. Money travels as
 * decimal strings in the plan's currency (`"12.5"`, at most six places), never as floats; the
 * edge keeps integer micro-units (edge/src/billing/money.ts).
 *
 * Admin REST: `GET /api/admin/billing` (billing.read), `PUT /api/admin/billing/limits`
 * (billing.manage), `GET /api/admin/billing/usage?from=&to=&by=` (billing.read),
 * `GET /api/admin/billing/rate-deck` (the deck in force as CSV, billing.read),
 * `GET /api/admin/billing/invoices`, `GET …/invoices/:id` (billing.read), `POST
 * /api/admin/billing/close-period` (billing.manage: invoice the period now running, up to now),
 * `POST /api/admin/billing/rate-decks` (billing.manage, the platform operator's admins only).
 */
import * as v from 'valibot';

/** A non-negative amount of the plan's currency: `"0.0125"`, `"100"`. */
export const Amount = v.pipe(v.string(), v.regex(/^\d{1,9}(\.\d{1,6})?$/, 'must be an amount such as 100 or 0.25, with at most six decimals'));
export type Amount = v.InferOutput<typeof Amount>;
/** An amount on an invoice, negative for a credit (a correction that lowered what calls cost). */
export const SignedAmount = v.pipe(v.string(), v.regex(/^-?\d{1,9}(\.\d{1,6})?$/, 'must be an amount such as 100, 0.25 or -1.5, with at most six decimals'));

/** A calendar day in UTC, `2026-12-04`. */
export const Day = v.pipe(v.string(), v.isoDate('must be a day such as 2026-12-04'));

export const BillingPlanView = v.object({
  id: v.string(),
  name: v.string(),
  currency: v.string(),
  seatPrice: Amount,
  /** Minutes of calls to the outside each period includes: per seat (prorated like the seat), and per organisation. */
  includedMinutesPerSeat: v.number(),
  includedMinutesPerTenant: v.number(),
});
export type BillingPlanView = v.InferOutput<typeof BillingPlanView>;

/**
 * The caps that refuse calls to the outside once reached, in the plan's currency; null: none of
 * that kind. The day is a UTC day, the period the billing period (from the anchor day).
 */
export const SpendLimits = v.object({
  dailyCap: v.nullable(Amount),
  monthlyCap: v.nullable(Amount),
});
export type SpendLimits = v.InferOutput<typeof SpendLimits>;

export const BillingView = v.object({
  plan: BillingPlanView,
  limits: SpendLimits,
  /** The billing period runs from this day of the month. */
  anchorDay: v.number(),
  periodStart: v.string(),
  periodEnd: v.string(),
  /** Charged so far (adjustments included), today and in the period. */
  spentToday: Amount,
  spentPeriod: Amount,
  /** Since when an invoice unpaid past its grace period has stopped calls to the outside; null while none has. */
  pstnSuspendedSince: v.nullable(v.string()),
  /** The caller is an admin of the platform operator's organisation, who uploads the plans' rate decks. */
  managesRateDecks: v.boolean(),
});
export type BillingView = v.InferOutput<typeof BillingView>;

export const UsageGrouping = v.picklist(['day', 'user', 'destination']);
export type UsageGrouping = v.InferOutput<typeof UsageGrouping>;

/** `from` and `to` are days, both included; at most a year apart. */
export const UsageQuery = v.object({ from: Day, to: Day, by: v.optional(UsageGrouping, 'day') });
export type UsageQuery = v.InferOutput<typeof UsageQuery>;

export const UsageRow = v.object({
  /** The day, the user id (null for calls no person made), or the destination's name in the deck. */
  key: v.nullable(v.string()),
  label: v.string(),
  calls: v.number(),
  billedSeconds: v.number(),
  cost: Amount,
});
export type UsageRow = v.InferOutput<typeof UsageRow>;

export const UsageReport = v.object({
  currency: v.string(),
  from: v.string(),
  to: v.string(),
  by: UsageGrouping,
  rows: v.array(UsageRow),
  total: v.object({ calls: v.number(), billedSeconds: v.number(), cost: Amount }),
});
export type UsageReport = v.InferOutput<typeof UsageReport>;

/**
 * An invoice: one per billing period, numbered per tenant without gaps (`GET
 * /api/admin/billing/invoices`, `…/invoices/:id`). `draft` until the payment provider has it.
 */
export const InvoiceView = v.object({
  id: v.string(),
  number: v.number(),
  periodStart: v.string(),
  periodEnd: v.string(),
  currency: v.string(),
  subtotal: SignedAmount,
  taxRatePercent: Amount,
  tax: SignedAmount,
  total: SignedAmount,
  status: v.picklist(['draft', 'open', 'paid', 'void', 'uncollectible']),
  /** Why the last charge did not go through (a declined card, the customer's action needed); null when none. */
  paymentProblem: v.nullable(v.string()),
  createdAt: v.string(),
});
export type InvoiceView = v.InferOutput<typeof InvoiceView>;

export const InvoiceLineView = v.object({
  /** `included`: what the plan's included minutes covered (negative); `correction`: earlier periods' calls re-rated. */
  kind: v.picklist(['seat', 'usage', 'included', 'correction']),
  description: v.string(),
  userId: v.nullable(v.string()),
  /** Days of a seat in the period, billed seconds of calls, or calls corrected. */
  quantity: v.number(),
  unit: v.picklist(['days', 'seconds', 'calls']),
  amount: SignedAmount,
});
export type InvoiceLineView = v.InferOutput<typeof InvoiceLineView>;

export const InvoiceList = v.object({ invoices: v.array(InvoiceView) });
export type InvoiceList = v.InferOutput<typeof InvoiceList>;

export const InvoiceDetail = v.object({ ...InvoiceView.entries, lines: v.array(InvoiceLineView) });
export type InvoiceDetail = v.InferOutput<typeof InvoiceDetail>;

/** The CSV of a deck as big as this fits an upload (100,000 rows are about 6 MB). */
export const MAX_RATE_DECK_BYTES = 16 * 1024 * 1024;

/**
 * A rate deck for a plan, uploaded by the platform operator's admins (`POST
 * /api/admin/billing/rate-decks`): the CSV (edge/src/billing/rateDeck.ts documents the format), in
 * force from `effectiveFrom` (a deck with an earlier deck's date corrects it), and the price per
 * minute above which a destination is blocked.
 */
export const RateDeckUpload = v.object({
  planId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a plan id')),
  effectiveFrom: v.pipe(v.string(), v.isoTimestamp('must be a time such as 2027-01-01T00:00:00Z')),
  blockAbove: Amount,
  csv: v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(MAX_RATE_DECK_BYTES, 'is larger than a deck may be')),
});
export type RateDeckUpload = v.InferOutput<typeof RateDeckUpload>;

export const RateDeckImported = v.object({ deckId: v.string(), planId: v.string(), effectiveFrom: v.string(), rows: v.number() });
export type RateDeckImported = v.InferOutput<typeof RateDeckImported>;
