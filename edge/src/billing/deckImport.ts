/**
 * Importing a rate deck (CSV, rateDeck.ts documents the format) as a new deck of a plan: the
 * operator's command (`npm run billing -- import-deck`) and the console's upload both come here.
 * Every row or none: a deck with an error is not stored, and each error names its line.
 */
import type { Db } from '../db/db.ts';
import { insertRateDeck } from '../db/billing.ts';
import { parseRateDeck, type DeckError } from './rateDeck.ts';

export interface DeckImport {
  planId: string;
  effectiveFrom: Date;
  blockAboveMicros: number;
  csv: string;
}

export type DeckImportResult =
  { ok: true; id: string; rows: number } | { ok: false; problem: 'invalid'; errors: DeckError[] } | { ok: false; problem: 'no_plan'; errors: [] };

/** Validates and stores the deck, in the caller's transaction. */
export async function importRateDeck(db: Db, deck: DeckImport): Promise<DeckImportResult> {
  const parsed = parseRateDeck(deck.csv);
  if (!parsed.ok) return { ok: false, problem: 'invalid', errors: parsed.errors };
  const plan = await db.query('select 1 from billing_plans where id = $1', [deck.planId]);
  if (plan.rowCount === 0) return { ok: false, problem: 'no_plan', errors: [] };
  const id = `${deck.planId}-${deck.effectiveFrom.toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;
  await insertRateDeck(db, { id, planId: deck.planId, effectiveFrom: deck.effectiveFrom, blockAboveMicros: deck.blockAboveMicros, rows: parsed.rows });
  return { ok: true, id, rows: parsed.rows.length };
}
