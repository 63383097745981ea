/**
 * The admin console's billing (protocol/src/billing.ts): the plan, spend caps and what is spent so
 * far; usage by day, person or destination; the rate deck in force as CSV. Caps are changed by
 * admins only and audited.
 */
import {
  ErrorCode,
  type BillingView,
  type InvoiceDetail,
  type InvoiceList,
  type RateDeckImported,
  type RateDeckUpload,
  type SpendLimits,
  type UsageGrouping,
  type UsageReport,
} from '@callstack/protocol';
import { clientIp } from '../auth/authenticate.ts';
import { recordAudit } from '../db/audit.ts';
import { billingStanding, deckInForceFor, saveSpendLimits, usage } from '../db/billing.ts';
import { withDb, withTransaction } from '../db/client.ts';
import { findInvoice, listInvoices } from '../db/invoices.ts';
import { findTenant } from '../db/tenants.ts';
import type { Env } from '../env.ts';
import { config } from '../config.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import type { Handler } from '../pipeline.ts';
import { importRateDeck } from './deckImport.ts';
import { invoicePdfOf } from './invoiceDocuments.ts';
import { closePeriod } from './invoicing.ts';
import { formatMicros, parseMicros } from './money.ts';
import { formatRateDeck } from './rateDeck.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** The longest usage report: a year of days. */
const MAX_USAGE_DAYS = 366;
/** An upload's answer names this many of its deck's errors (the rest are counted). */
const DECK_ERRORS_SHOWN = 20;

/** Rate decks are the platform operator's, uploaded by admins of its own organisation only. */
function managesRateDecks(env: Env, tenantId: string): boolean {
  return config(env).platformTenantId === tenantId;
}

export const billingGet: Handler<'bearer'> = async ({ env, principal }) => {
  const now = new Date();
  const standing = await withDb(env, (db) => billingStanding(db, principal.tenantId, now));
  const periodEnd = new Date(standing.periodStart);
  periodEnd.setUTCMonth(periodEnd.getUTCMonth() + 1);
  const amount = (micros: number | null) => (micros === null ? null : formatMicros(micros));
  return json({
    plan: {
      id: standing.plan.id,
      name: standing.plan.name,
      currency: standing.plan.currency,
      seatPrice: formatMicros(standing.plan.seatPriceMicros),
      includedMinutesPerSeat: standing.plan.includedMinutesPerSeat,
      includedMinutesPerTenant: standing.plan.includedMinutesPerTenant,
    },
    limits: { dailyCap: amount(standing.dailyCapMicros), monthlyCap: amount(standing.monthlyCapMicros) },
    anchorDay: standing.anchorDay,
    periodStart: standing.periodStart.toISOString(),
    periodEnd: periodEnd.toISOString(),
    spentToday: formatMicros(standing.spentTodayMicros),
    spentPeriod: formatMicros(standing.spentPeriodMicros),
    pstnSuspendedSince: standing.suspendedSince?.toISOString() ?? null,
    managesRateDecks: managesRateDecks(env, principal.tenantId),
  } satisfies BillingView);
};

export const billingLimitsPut: Handler<'bearer', SpendLimits> = async ({ env, principal, body, request }) => {
  await withTransaction(env, async (db) => {
    await saveSpendLimits(db, principal.tenantId, body);
    await recordAudit(db, {
      tenantId: principal.tenantId,
      actorType: principal.actorType,
      actorId: principal.userId,
      action: 'billing.limits_changed',
      targetType: 'tenant',
      targetId: principal.tenantId,
      details: { ...body },
      ip: clientIp(request),
    });
  });
  return json(body satisfies SpendLimits);
};

export interface UsageParameters {
  from: string | undefined;
  to: string | undefined;
  by: UsageGrouping;
}

/** Usage of [from, to] (days, both included); the current UTC month when not given. */
export const billingUsage: Handler<'bearer', undefined, UsageParameters> = async ({ env, principal, query }) => {
  const today = new Date().toISOString().slice(0, 10);
  const from = query.from ?? `${today.slice(0, 8)}01`;
  const to = query.to ?? today;
  const [start, end] = [new Date(`${from}T00:00:00Z`), new Date(new Date(`${to}T00:00:00Z`).getTime() + DAY_MS)];
  if (!(start < end)) throw new ApiError(ErrorCode.badRequest, 'from: must not be after to');
  if (end.getTime() - start.getTime() > MAX_USAGE_DAYS * DAY_MS) throw new ApiError(ErrorCode.badRequest, `to: at most ${MAX_USAGE_DAYS} days after from`);
  const { rows, currency } = await withDb(env, async (db) => ({
    rows: await usage(db, principal.tenantId, start, end, query.by),
    currency: (await billingStanding(db, principal.tenantId, new Date())).plan.currency,
  }));
  const total = rows.reduce(
    (sum, row) => ({ calls: sum.calls + row.calls, billedSeconds: sum.billedSeconds + row.billedSeconds, micros: sum.micros + row.costMicros }),
    { calls: 0, billedSeconds: 0, micros: 0 },
  );
  return json({
    currency,
    from,
    to,
    by: query.by,
    rows: rows.map(({ costMicros, ...row }) => ({ ...row, cost: formatMicros(costMicros) })),
    total: { calls: total.calls, billedSeconds: total.billedSeconds, cost: formatMicros(total.micros) },
  } satisfies UsageReport);
};

/** The deck the organisation's calls are rated by now, in the documented CSV form (rateDeck.ts). */
export const billingRateDeck: Handler<'bearer'> = async ({ env, principal }) => {
  const deck = await withDb(env, (db) => deckInForceFor(db, principal.tenantId, new Date()));
  if (!deck) throw new ApiError(ErrorCode.notFound, 'your organisation’s plan has no rate deck in force');
  return new Response(formatRateDeck(deck.rows), {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="rate-deck-${deck.id}.csv"`,
      'cache-control': 'no-store',
    },
  });
};

/** A new deck for a plan, every row or none; rerating calls already rated stays `npm run billing -- rerate`. */
export const rateDecksPost: Handler<'bearer', RateDeckUpload> = async ({ env, principal, body, request }) => {
  if (!managesRateDecks(env, principal.tenantId)) throw new ApiError(ErrorCode.forbidden, 'rate decks are uploaded by the platform operator’s admins');
  const blockAboveMicros = parseMicros(body.blockAbove)!;
  const effectiveFrom = new Date(body.effectiveFrom);
  if (Number.isNaN(effectiveFrom.getTime())) throw new ApiError(ErrorCode.badRequest, 'effectiveFrom: must be a time such as 2027-01-01T00:00:00Z');
  const result = await withTransaction(env, async (db) => {
    const imported = await importRateDeck(db, { planId: body.planId, effectiveFrom, blockAboveMicros, csv: body.csv });
    if (!imported.ok) return imported;
    await recordAudit(db, {
      tenantId: principal.tenantId,
      actorType: principal.actorType,
      actorId: principal.userId,
      action: 'billing.rate_deck_imported',
      targetType: 'rate_deck',
      targetId: imported.id,
      details: { planId: body.planId, effectiveFrom: effectiveFrom.toISOString(), rows: imported.rows, blockAbove: body.blockAbove },
      ip: clientIp(request),
    });
    return imported;
  });
  if (!result.ok && result.problem === 'no_plan') throw new ApiError(ErrorCode.notFound, `there is no plan ${body.planId}`);
  if (!result.ok) {
    const shown = result.errors.slice(0, DECK_ERRORS_SHOWN).map((error) => `line ${error.line}: ${error.message}`);
    const more = result.errors.length - shown.length;
    throw new ApiError(ErrorCode.badRequest, `the deck was not imported: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`);
  }
  return json({ deckId: result.id, planId: body.planId, effectiveFrom: effectiveFrom.toISOString(), rows: result.rows } satisfies RateDeckImported, 201);
};

export const invoicesList: Handler<'bearer', undefined, { limit: number }> = async ({ env, principal, query }) =>
  json({ invoices: await withDb(env, (db) => listInvoices(db, principal.tenantId, query.limit)) } satisfies InvoiceList);

export const invoiceGet: Handler<'bearer'> = async ({ env, principal, params }) => {
  const invoice = await withDb(env, (db) => findInvoice(db, principal.tenantId, params.id!));
  if (!invoice) throw new ApiError(ErrorCode.notFound, 'no such invoice');
  return json(invoice satisfies InvoiceDetail);
};

/** The invoice's PDF as it was issued (invoiceDocuments.ts). */
export const invoicePdf: Handler<'bearer'> = async ({ env, principal, params }) => {
  const found = await withDb(env, async (db) => ({
    invoice: await findInvoice(db, principal.tenantId, params.id!),
    tenant: await findTenant(db, principal.tenantId),
  }));
  if (!found.invoice || !found.tenant) throw new ApiError(ErrorCode.notFound, 'no such invoice');
  const pdf = await invoicePdfOf(env, found.invoice, found.tenant);
  return new Response(pdf, {
    headers: {
      'content-type': 'application/pdf',
      'content-disposition': `attachment; filename="invoice-${found.tenant.slug}-${found.invoice.number}.pdf"`,
      'cache-control': 'no-store',
    },
  });
};

/** Invoices the running period up to now (what the Cron Trigger does at the period's end). */
export const closePeriodPost: Handler<'bearer'> = async ({ env, principal, request }) => {
  const id = await closePeriod(env, principal.tenantId);
  const invoice = await withTransaction(env, async (db) => {
    await recordAudit(db, {
      tenantId: principal.tenantId,
      actorType: principal.actorType,
      actorId: principal.userId,
      action: 'billing.period_closed',
      targetType: 'invoice',
      targetId: id,
      details: {},
      ip: clientIp(request),
    });
    return findInvoice(db, principal.tenantId, id);
  });
  return json(invoice satisfies InvoiceDetail | null, 201);
};
