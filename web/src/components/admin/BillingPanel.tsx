/**
 * The organisation's billing: its plan, what calls to the outside cost so far today and in the
 * billing period against the spend caps, the caps themselves (admins change them: billing.manage),
 * this month's usage by destination, person or day, and the rate deck its calls are priced by.
 */
import { useEffect, useState } from 'preact/hooks';
import * as v from 'valibot';
import { RateDeckUpload, SpendLimits, type BillingView, type InvoiceDetail, type InvoiceView, type UsageGrouping } from '@callstack/protocol';
import { api } from '../../api.ts';
import { capUsed, formatAmount, formatBilled, includedMinutes, limitsFrom, usageLabel } from '../../billing.ts';
import { formProblem } from '../../forms.ts';
import { useAction, useFetched, useVersion } from '../../hooks.ts';
import { saveFile } from '../../saveFile.ts';
import type { Session } from '../../session.ts';
import { Field } from '../Field.tsx';

const LIMIT_LABELS: Record<string, string> = { dailyCap: 'Daily limit', monthlyCap: 'Monthly limit' };
const DECK_LABELS: Record<string, string> = { planId: 'Plan', effectiveFrom: 'In force from', blockAbove: 'Block above', csv: 'Deck' };
const GROUPINGS: { by: UsageGrouping; label: string; column: string }[] = [
  { by: 'destination', label: 'By destination', column: 'Destination' },
  { by: 'user', label: 'By person', column: 'Person' },
  { by: 'day', label: 'By day', column: 'Day' },
];

export function BillingPanel({ session, canManage }: { session: Session; canManage: boolean }) {
  const [version, reload] = useVersion();
  const billing = useFetched(`billing:${version}`, () => session.authed(api.billing));
  if (!billing.data) return <section class="card">{billing.error ?? 'Loading…'}</section>;
  return (
    <>
      <Standing billing={billing.data} />
      <LimitsForm session={session} billing={billing.data} canManage={canManage} onSaved={reload} />
      <Usage session={session} currency={billing.data.plan.currency} version={version} />
      <Invoices session={session} canManage={canManage} version={version} onClosed={reload} />
      <RateDeck session={session} />
      {billing.data.managesRateDecks && canManage && <RateDeckUploadForm session={session} planId={billing.data.plan.id} />}
    </>
  );
}

function Standing({ billing }: { billing: BillingView }) {
  const { currency } = billing.plan;
  const until = new Date(billing.periodEnd).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', timeZone: 'UTC' });
  return (
    <section class="card" aria-labelledby="billing-title" data-testid="billing-standing">
      <h2 id="billing-title">Billing</h2>
      <p class="muted">
        {billing.plan.name} plan: {formatAmount(billing.plan.seatPrice, currency)} per person a month, calls to the outside by the minute
        {includedMinutes(billing.plan)}. The period runs until {until}.
      </p>
      <SpendMeter label="Today" spent={billing.spentToday} cap={billing.limits.dailyCap} currency={currency} testid="spent-today" />
      <SpendMeter label="This period" spent={billing.spentPeriod} cap={billing.limits.monthlyCap} currency={currency} testid="spent-period" />
      {billing.pstnSuspendedSince && (
        <p class="error" role="alert">
          Calls to the outside are stopped since{' '}
          {new Date(billing.pstnSuspendedSince).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', timeZone: 'UTC' })}: an invoice is unpaid past its
          grace period. Calls inside the organisation go on. Paying the invoice opens them again.
        </p>
      )}
    </section>
  );
}

function SpendMeter({ label, spent, cap, currency, testid }: { label: string; spent: string; cap: string | null; currency: string; testid: string }) {
  const used = capUsed(spent, cap);
  return (
    <div class="spend" data-testid={testid} data-spent={spent}>
      <span class="row-title">
        {label}: {formatAmount(spent, currency)}
        {cap === null ? ' (no limit)' : ` of ${formatAmount(cap, currency)}`}
      </span>
      {used !== null && (
        <meter min={0} max={100} low={80} high={99} optimum={0} value={used} aria-label={`${label}: ${used}% of the limit used`}>
          {used}%
        </meter>
      )}
    </div>
  );
}

function LimitsForm({ session, billing, canManage, onSaved }: { session: Session; billing: BillingView; canManage: boolean; onSaved: () => void }) {
  const initial = { dailyCap: billing.limits.dailyCap ?? '', monthlyCap: billing.limits.monthlyCap ?? '' };
  const [draft, setDraft] = useState(initial);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  useEffect(() => setDraft(initial), [billing.limits.dailyCap, billing.limits.monthlyCap]);

  function submit(event: Event): void {
    event.preventDefault();
    const request = v.safeParse(SpendLimits, limitsFrom(draft));
    if (!request.success) return action.setError(formProblem(request.issues, LIMIT_LABELS));
    void action.run(async () => {
      await session.authed((token) => api.saveSpendLimits(token, request.output));
      setSaved(true);
      onSaved();
    });
  }

  const field = (name: 'dailyCap' | 'monthlyCap', hint: string) => (
    <Field
      id={`limits-${name}`}
      label={`${LIMIT_LABELS[name]} (${billing.plan.currency})`}
      hint={hint}
      autocomplete="off"
      value={draft[name]}
      onValue={(value) => {
        setDraft({ ...draft, [name]: value });
        setSaved(false);
      }}
      disabled={!canManage}
    />
  );
  return (
    <section class="card" aria-labelledby="limits-title">
      <h2 id="limits-title">Spending limits</h2>
      <p class="muted">
        At a limit, new calls to the outside are refused (calls inside the organisation stay free and open), and a call in progress ends when the money left is
        spent. Admins get a mail at 80% and at the limit. Empty: no limit.
      </p>
      <form class="stack-form" data-testid="limits-form" noValidate onSubmit={submit}>
        {field('dailyCap', 'Per UTC day, e.g. 100')}
        {field('monthlyCap', 'Per billing period, e.g. 1000')}
        {canManage && (
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {action.busy ? 'Saving…' : 'Save limits'}
          </button>
        )}
      </form>
      {saved && (
        <p class="notice" role="status" data-testid="limits-saved">
          Saved.
        </p>
      )}
      {action.error && (
        <p class="error" role="alert" data-testid="limits-error">
          {action.error}
        </p>
      )}
    </section>
  );
}

function Usage({ session, currency, version }: { session: Session; currency: string; version: number }) {
  const [by, setBy] = useState<UsageGrouping>('destination');
  const usage = useFetched(`usage:${by}:${version}`, () => session.authed((token) => api.billingUsage(token, by)));
  return (
    <section class="card" aria-labelledby="usage-title" aria-busy={usage.loading} data-testid="billing-usage">
      <div class="card-head">
        <h2 id="usage-title">Usage this month</h2>
        <select
          aria-label="Group usage"
          value={by}
          data-testid="usage-grouping"
          onChange={(event) => setBy((event.target as HTMLSelectElement).value as UsageGrouping)}
        >
          {GROUPINGS.map((grouping) => (
            <option key={grouping.by} value={grouping.by}>
              {grouping.label}
            </option>
          ))}
        </select>
      </div>
      {usage.data === null ? (
        <p class="muted">{usage.error ?? 'Loading…'}</p>
      ) : usage.data.rows.length === 0 ? (
        <p class="muted">No calls to the outside this month.</p>
      ) : (
        <table class="usage">
          <thead>
            <tr>
              <th scope="col">{GROUPINGS.find((grouping) => grouping.by === by)?.column}</th>
              <th scope="col">Calls</th>
              <th scope="col">Billed</th>
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {usage.data.rows.map((row) => (
              <tr key={row.key ?? 'none'} data-testid="usage-row">
                <td>{usageLabel(row, by)}</td>
                <td>{row.calls}</td>
                <td>{formatBilled(row.billedSeconds)}</td>
                <td>{formatAmount(row.cost, currency)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr data-testid="usage-total">
              <th scope="row">Total</th>
              <td>{usage.data.total.calls}</td>
              <td>{formatBilled(usage.data.total.billedSeconds)}</td>
              <td>{formatAmount(usage.data.total.cost, currency)}</td>
            </tr>
          </tfoot>
        </table>
      )}
    </section>
  );
}

const STATUS_LABELS: Record<InvoiceView['status'], string> = { draft: 'Draft', open: 'Due', paid: 'Paid', void: 'Void', uncollectible: 'Uncollectible' };

function Invoices({ session, canManage, version, onClosed }: { session: Session; canManage: boolean; version: number; onClosed: () => void }) {
  const invoices = useFetched(`invoices:${version}`, () => session.authed(api.invoices).then((response) => response.invoices));
  const action = useAction();
  const close = () =>
    void action.run(async () => {
      await session.authed(api.closePeriod);
      onClosed();
    });
  return (
    <section class="card" aria-labelledby="invoices-title" aria-busy={invoices.loading} data-testid="invoices">
      <div class="card-head">
        <h2 id="invoices-title">Invoices</h2>
        {canManage && (
          <button type="button" class="btn btn-small" data-testid="close-period" disabled={action.busy} onClick={close}>
            {action.busy ? 'Invoicing…' : 'Close the period and invoice now'}
          </button>
        )}
      </div>
      <p class="muted">An invoice is made at the end of each billing period: seats for the days each person was active, and calls to the outside.</p>
      {invoices.data === null ? (
        <p class="muted">{invoices.error ?? 'Loading…'}</p>
      ) : invoices.data.length === 0 ? (
        <p class="muted">No invoices yet.</p>
      ) : (
        <ul class="list">
          {invoices.data.map((invoice) => (
            <InvoiceRow key={invoice.id} session={session} invoice={invoice} />
          ))}
        </ul>
      )}
      {action.error && (
        <p class="error" role="alert" data-testid="close-period-error">
          {action.error}
        </p>
      )}
    </section>
  );
}

function InvoiceRow({ session, invoice }: { session: Session; invoice: InvoiceView }) {
  const [open, setOpen] = useState(false);
  const detail = useFetched<InvoiceDetail>(open ? `invoice:${invoice.id}` : null, () => session.authed((token) => api.invoice(token, invoice.id)));
  const day = (iso: string) => new Date(iso).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const action = useAction();
  const downloadPdf = () =>
    void action.run(async () => {
      const file = await session.authed((token) => api.invoicePdf(token, invoice.id));
      saveFile(file.blob, file.filename ?? `invoice-${invoice.number}.pdf`);
    });
  return (
    <li class="row row-wrap" data-testid="invoice" data-number={invoice.number}>
      <details class="row-main" onToggle={(event) => setOpen((event.target as HTMLDetailsElement).open)}>
        <summary class="row-title">
          No. {invoice.number} · {day(invoice.periodStart)} – {day(invoice.periodEnd)} · {formatAmount(invoice.total, invoice.currency)} ·{' '}
          {STATUS_LABELS[invoice.status]}
          {invoice.paymentProblem && <span class="error"> · {invoice.paymentProblem}</span>}
        </summary>
        {detail.data === null ? (
          <p class="muted">{detail.error ?? 'Loading…'}</p>
        ) : (
          <table class="usage" data-testid="invoice-lines">
            <tbody>
              {detail.data.lines.map((line, index) => (
                <tr key={index}>
                  <td>{line.description}</td>
                  <td>{line.unit === 'days' ? `${line.quantity} days` : line.unit === 'calls' ? `${line.quantity} calls` : formatBilled(line.quantity)}</td>
                  <td>{formatAmount(line.amount, invoice.currency)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Tax ({invoice.taxRatePercent}%)</th>
                <td />
                <td>{formatAmount(invoice.tax, invoice.currency)}</td>
              </tr>
              <tr>
                <th scope="row">Total</th>
                <td />
                <td>{formatAmount(invoice.total, invoice.currency)}</td>
              </tr>
            </tfoot>
          </table>
        )}
      </details>
      <button type="button" class="btn btn-ghost btn-small" data-testid="invoice-pdf" disabled={action.busy} onClick={downloadPdf}>
        PDF
      </button>
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
    </li>
  );
}

function RateDeck({ session }: { session: Session }) {
  const action = useAction();
  const download = () =>
    void action.run(async () => {
      const file = await session.authed(api.rateDeck);
      saveFile(file.blob, file.filename ?? 'rate-deck.csv');
    });
  return (
    <section class="card" aria-labelledby="rate-deck-title">
      <h2 id="rate-deck-title">Prices</h2>
      <p class="muted">The rate deck your calls are priced by: a price per minute for each destination prefix, with its billing increments.</p>
      <button type="button" class="btn" data-testid="rate-deck-download" disabled={action.busy} onClick={download}>
        Download the rate deck (CSV)
      </button>
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
    </section>
  );
}

/** The platform operator's admins put a new deck in force for a plan (every row or none). */
function RateDeckUploadForm({ session, planId }: { session: Session; planId: string }) {
  const [draft, setDraft] = useState({ planId, effectiveFrom: new Date().toISOString().slice(0, 10), blockAbove: '0.5' });
  const [file, setFile] = useState<File | null>(null);
  const [imported, setImported] = useState<string | null>(null);
  const action = useAction();

  function submit(event: Event): void {
    event.preventDefault();
    setImported(null);
    void action.run(async () => {
      const csv = file ? await file.text() : '';
      const request = v.safeParse(RateDeckUpload, { ...draft, effectiveFrom: `${draft.effectiveFrom}T00:00:00Z`, csv });
      if (!request.success) return action.setError(formProblem(request.issues, DECK_LABELS));
      const answer = await session.authed((token) => api.uploadRateDeck(token, request.output));
      setImported(`Deck ${answer.deckId}: ${answer.rows} rows, in force from ${answer.effectiveFrom.slice(0, 10)}.`);
    });
  }

  const field = (name: keyof typeof draft, label: string, hint: string, type = 'text') => (
    <Field
      id={`deck-${name}`}
      label={label}
      hint={hint}
      type={type}
      autocomplete="off"
      value={draft[name]}
      onValue={(value) => setDraft({ ...draft, [name]: value })}
    />
  );
  return (
    <section class="card" aria-labelledby="deck-upload-title">
      <h2 id="deck-upload-title">Upload a rate deck</h2>
      <p class="muted">
        A CSV with the header of the downloaded deck. A deck with any bad row is not stored, and each problem names its line. A deck dated like an earlier one
        corrects it; calls already rated are rated again with <code>npm run billing -- rerate</code>.
      </p>
      <form class="stack-form" data-testid="deck-upload-form" noValidate onSubmit={submit}>
        {field('planId', 'Plan', 'The plan id, e.g. standard')}
        {field('effectiveFrom', 'In force from', 'UTC, from the start of the day', 'date')}
        {field('blockAbove', 'Block above (per minute)', 'Destinations priced higher are refused, e.g. 0.5')}
        <div class="field">
          <label for="deck-file">Deck (CSV)</label>
          <input
            id="deck-file"
            type="file"
            accept=".csv,text/csv"
            data-testid="deck-file"
            onChange={(event) => setFile(event.currentTarget.files?.[0] ?? null)}
          />
        </div>
        <button type="submit" class="btn btn-primary" disabled={action.busy}>
          {action.busy ? 'Uploading…' : 'Upload'}
        </button>
      </form>
      {imported && (
        <p class="notice" role="status" data-testid="deck-imported">
          {imported}
        </p>
      )}
      {action.error && (
        <p class="error" role="alert" data-testid="deck-error">
          {action.error}
        </p>
      )}
    </section>
  );
}
