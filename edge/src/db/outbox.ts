/**
 * The mail outbox. A message is inserted in the same transaction as the change that causes it
 * (a reset token, a password change), so it exists exactly when that change committed.
 */
import type { Db } from './db.ts';

/** A file sent with a message; `content` is base64. */
export interface MailAttachment {
  filename: string;
  contentType: string;
  content: string;
}

export interface NewMail {
  tenantId: string | null;
  to: string;
  subject: string;
  text: string;
  attachments?: MailAttachment[];
}

export interface PendingMail extends NewMail {
  id: string;
  attempts: number;
}

export async function enqueueMail(db: Db, mail: NewMail): Promise<string> {
  const id = crypto.randomUUID();
  await db.query('insert into outbox (id, tenant_id, to_address, subject, body_text, attachments) values ($1, $2, $3, $4, $5, $6)', [
    id,
    mail.tenantId,
    mail.to,
    mail.subject,
    mail.text,
    JSON.stringify(mail.attachments ?? []),
  ]);
  return id;
}

/** Locks up to `limit` due messages; concurrent deliverers skip each other's rows. In a transaction. */
export async function claimDueMail(db: Db, limit: number): Promise<PendingMail[]> {
  const { rows } = await db.query<{
    id: string;
    tenant_id: string | null;
    to_address: string;
    subject: string;
    body_text: string;
    attachments: MailAttachment[];
    attempts: number;
  }>(
    `select id, tenant_id, to_address, subject, body_text, attachments, attempts from outbox
      where sent_at is null and next_try_at <= now()
      order by next_try_at limit $1 for update skip locked`,
    [limit],
  );
  return rows.map((row) => ({
    id: row.id,
    tenantId: row.tenant_id,
    to: row.to_address,
    subject: row.subject,
    text: row.body_text,
    attachments: row.attachments,
    attempts: row.attempts,
  }));
}

export async function markSent(db: Db, id: string): Promise<void> {
  await db.query('update outbox set sent_at = now(), attempts = attempts + 1, last_error = null where id = $1', [id]);
}

export async function markFailed(db: Db, id: string, error: string, retryInMs: number): Promise<void> {
  await db.query(`update outbox set attempts = attempts + 1, last_error = $2, next_try_at = now() + make_interval(secs => $3) where id = $1`, [
    id,
    error.slice(0, 500),
    retryInMs / 1000,
  ]);
}
