/**
 * Invoice PDFs as documents: rendered once, when the invoice is issued, and kept in R2 (the
 * INVOICES bucket; locally the one wrangler simulates), so the file an admin downloads is the one
 * that was mailed, whatever changes later (the organisation's name, the template). An invoice whose
 * file is missing (R2 failed when it was issued) is rendered from its stored lines on first
 * download and kept from then on.
 */
import type { InvoiceDetail } from '@callstack/protocol';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { renderInvoicePdf, type InvoiceParty } from './invoicePdf.ts';

const keyOf = (tenantId: string, invoiceId: string) => `invoices/${encodeURIComponent(tenantId)}/${encodeURIComponent(invoiceId)}.pdf`;

/** Keeps the issued PDF; a failure is logged and left to the first download to mend. */
export async function keepInvoicePdf(env: Env, tenantId: string, invoiceId: string, pdf: Uint8Array): Promise<void> {
  try {
    await env.INVOICES.put(keyOf(tenantId, invoiceId), pdf, { httpMetadata: { contentType: 'application/pdf' } });
  } catch (error) {
    log.warn('billing.pdf_not_kept', { tenantId, invoiceId }, error);
  }
}

/** The invoice's PDF as issued (kept), or rendered and kept now. */
export async function invoicePdfOf(env: Env, invoice: InvoiceDetail, tenant: InvoiceParty & { id: string }): Promise<Uint8Array> {
  const kept = await env.INVOICES.get(keyOf(tenant.id, invoice.id));
  if (kept) return new Uint8Array(await kept.arrayBuffer());
  const pdf = await renderInvoicePdf(invoice, tenant);
  await keepInvoicePdf(env, tenant.id, invoice.id, pdf);
  return pdf;
}
