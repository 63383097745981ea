/**
 * An invoice as a PDF (pdf-lib, A4): the organisation, the number and period, each line with its
 * quantity and amount, the subtotal, tax and total. Pure: the same invoice gives the same bytes
 * but for the creation date pdf-lib stamps (fixed here to the invoice's own date).
 *
 * The standard Helvetica font draws WinAnsi (Latin-1 and a few signs) only: a character outside it
 * (a name in another script, an emoji) is drawn as `?` rather than failing the whole invoice.
 */
import type { InvoiceDetail } from '@callstack/protocol';
import { PDFDocument, StandardFonts, rgb, type PDFFont } from 'pdf-lib';

const PAGE = { width: 595.28, height: 841.89 } as const;
const MARGIN = 56;
const LINE_HEIGHT = 16;
const AMOUNT_RIGHT = PAGE.width - MARGIN;
const QUANTITY_RIGHT = AMOUNT_RIGHT - 110;
const DESCRIPTION_WIDTH = QUANTITY_RIGHT - 90 - MARGIN;
/** WinAnsi's characters beyond Latin-1. */
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

export interface InvoiceParty {
  name: string;
  slug: string;
}

/** Text as Helvetica can draw it. */
export function drawable(text: string): string {
  return [...text.normalize('NFC')]
    .map((char) => {
      const code = char.codePointAt(0)!;
      return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(char) ? char : '?';
    })
    .join('');
}

export async function renderInvoicePdf(invoice: InvoiceDetail, organisation: InvoiceParty): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const issued = new Date(invoice.createdAt);
  pdf.setTitle(`Invoice ${invoice.number} of ${drawable(organisation.name)}`);
  pdf.setProducer('CallStack');
  pdf.setCreationDate(issued);
  pdf.setModificationDate(issued);
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const money = (amount: string) => `${amount.includes('.') ? amount.padEnd(amount.indexOf('.') + 3, '0') : `${amount}.00`} ${invoice.currency}`;
  const day = (iso: string) => new Date(iso).toISOString().slice(0, 10);

  let page = pdf.addPage([PAGE.width, PAGE.height]);
  let y = PAGE.height - MARGIN;
  const text = (value: string, x: number, font: PDFFont = regular, size = 10) =>
    page.drawText(drawable(value), { x, y, size, font, color: rgb(0.1, 0.12, 0.14) });
  const right = (value: string, edge: number, font: PDFFont = regular, size = 10) =>
    text(value, edge - font.widthOfTextAtSize(drawable(value), size), font, size);
  const next = (lines = 1) => {
    y -= LINE_HEIGHT * lines;
    if (y < MARGIN + LINE_HEIGHT * 4) {
      page = pdf.addPage([PAGE.width, PAGE.height]);
      y = PAGE.height - MARGIN;
    }
  };

  text('CallStack', MARGIN, bold, 18);
  right(`Invoice No. ${invoice.number}`, AMOUNT_RIGHT, bold, 14);
  next(2);
  text(organisation.name, MARGIN, bold, 11);
  right(`Issued ${day(invoice.createdAt)}`, AMOUNT_RIGHT);
  next();
  text(`Account ${organisation.slug}`, MARGIN);
  right(`Period ${day(invoice.periodStart)} to ${day(invoice.periodEnd)}`, AMOUNT_RIGHT);
  next(3);

  text('Description', MARGIN, bold);
  right('Quantity', QUANTITY_RIGHT, bold);
  right('Amount', AMOUNT_RIGHT, bold);
  next();
  for (const line of invoice.lines) {
    text(fitted(line.description, regular, 10, DESCRIPTION_WIDTH), MARGIN);
    right(
      line.unit === 'days' ? `${line.quantity} days` : line.unit === 'calls' ? `${line.quantity} calls` : `${Math.ceil(line.quantity / 60)} min`,
      QUANTITY_RIGHT,
    );
    right(money(line.amount), AMOUNT_RIGHT);
    next();
  }
  if (invoice.lines.length === 0) {
    text('Nothing to charge in this period.', MARGIN);
    next();
  }
  next();
  right(`Subtotal  ${money(invoice.subtotal)}`, AMOUNT_RIGHT);
  next();
  right(`Tax ${invoice.taxRatePercent}%  ${money(invoice.tax)}`, AMOUNT_RIGHT);
  next();
  right(`Total  ${money(invoice.total)}`, AMOUNT_RIGHT, bold, 12);
  return pdf.save();
}

/** `text` cut with an ellipsis to fit `width`. */
function fitted(text: string, font: PDFFont, size: number, width: number): string {
  const shown = drawable(text);
  if (font.widthOfTextAtSize(shown, size) <= width) return shown;
  let cut = shown;
  while (cut.length > 1 && font.widthOfTextAtSize(`${cut}…`, size) > width) cut = cut.slice(0, -1);
  return `${cut}…`;
}
