/**
 * How mail leaves the edge. Production points MAIL_ENDPOINT at an HTTP mail API with the shape
 * of Resend's `POST /emails` (`{from, to, subject, text, attachments}`, bearer key, `Idempotency-Key`); the
 * local default is the dev mail sink of `npm start` / `npm test`, which writes each message to
 * `.data/outbox/`. The idempotency key is the outbox id, so a retried delivery is never a
 * second mail.
 */
import { config } from '../config.ts';
import type { MailAttachment } from '../db/outbox.ts';
import type { Env } from '../env.ts';

export interface MailMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  attachments?: MailAttachment[];
}

export interface MailSender {
  send(message: MailMessage): Promise<void>;
}

export class MailDeliveryError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`mail API answered ${status}: ${detail.slice(0, 200)}`);
    this.name = 'MailDeliveryError';
  }
}

export class HttpMailSender implements MailSender {
  constructor(
    private readonly endpoint: string,
    private readonly apiKey: string,
    private readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<void> {
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': message.id,
      },
      body: JSON.stringify({
        from: this.from,
        to: [message.to],
        subject: message.subject,
        text: message.text,
        ...(message.attachments?.length
          ? { attachments: message.attachments.map((file) => ({ filename: file.filename, content: file.content, content_type: file.contentType })) }
          : {}),
      }),
    });
    if (!response.ok) throw new MailDeliveryError(response.status, await response.text());
  }
}

/** The configured sender, or null: then mail waits in the outbox until one is configured. */
export function mailSenderFor(env: Env): MailSender | null {
  const { mail } = config(env);
  return mail && new HttpMailSender(mail.endpoint, mail.apiKey, mail.from);
}
