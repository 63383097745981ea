import { withTransaction } from '../db/client.ts';
import { claimDueMail, markFailed, markSent } from '../db/outbox.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { retryDelay } from '../retry.ts';
import { mailSenderFor, type MailSender } from './MailSender.ts';

const BATCH = 20;

/**
 * Sends due outbox messages; failures are retried later with backoff and jitter. Runs right
 * after a request that queued mail (waitUntil) and from the cron trigger, which catches anything
 * a crashed or unlucky run left behind.
 */
export async function deliverOutbox(env: Env, sender: MailSender | null = mailSenderFor(env)): Promise<{ sent: number; failed: number }> {
  if (!sender) return { sent: 0, failed: 0 };
  return withTransaction(env, async (db) => {
    let sent = 0;
    let failed = 0;
    for (const mail of await claimDueMail(db, BATCH)) {
      try {
        await sender.send(mail);
        await markSent(db, mail.id);
        sent++;
      } catch (error) {
        failed++;
        log.warn('mail.delivery_failed', { tenantId: mail.tenantId ?? undefined, mailId: mail.id, attempts: mail.attempts + 1 }, error);
        await markFailed(db, mail.id, (error as Error).message, retryDelay(mail.attempts + 1));
      }
    }
    return { sent, failed };
  });
}

/** Mail just queued, sent at once where it can be; best effort, as the cron trigger retries what fails. */
export async function deliverSoon(env: Env): Promise<void> {
  await deliverOutbox(env).catch((error: unknown) => log.warn('mail.delivery_deferred', {}, error));
}
