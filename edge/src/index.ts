/**
 * The CallStack edge Worker: the REST API under /api (declared in routes.ts), the signaling and
 * presence WebSockets, the cron jobs, and the web app as static assets (wrangler.toml `[assets]`, SPA
 * fallback). Durable Objects are exported here.
 */
import { ErrorCode } from '@callstack/protocol';
import { AutoRouter, type IRequest } from 'itty-router';
import { chargeUnrated } from './billing/charging.ts';
import { runDueInvoices } from './billing/invoicing.ts';
import { runDunning } from './billing/collections.ts';
import { chargeUnchargedInvoices, collectorFor } from './billing/stripeSync.ts';
import { config, ConfigError } from './config.ts';
import { withDb } from './db/client.ts';
import type { Env } from './env.ts';
import { ApiError } from './errors.ts';
import { errorResponse, json } from './http.ts';
import { log } from './log.ts';
import { deliverOutbox } from './mail/deliverOutbox.ts';
import { ROUTES } from './routes.ts';
import { withSecurityHeaders } from './securityHeaders.ts';

export { MediaFleet } from './fleet/MediaFleet.ts';
export { PresenceShard } from './presence/PresenceShard.ts';
export { PstnGuard } from './pstn/PstnGuard.ts';
export { Room } from './rooms/Room.ts';
export { CallSession } from './signaling/CallSession.ts';
export { UserHub } from './signaling/UserHub.ts';

type Args = [Env, ExecutionContext];

export const router = AutoRouter<IRequest, Args>({
  catch: errorResponse,
  // Unknown API paths answer in the API's error shape rather than AutoRouter's default.
  missing: () => json(new ApiError(ErrorCode.notFound, 'no such route').toBody(), 404),
});
for (const route of ROUTES) router[route.method](route.path, route.serve);

export default {
  fetch: async (request: Request, env: Env, ctx: ExecutionContext) => withSecurityHeaders(configProblem(env) ?? (await router.fetch(request, env, ctx))),
  /** Every minute: charge calls a failure left unrated, invoice the periods that ended, send unsent invoices to Stripe, chase unpaid ones (dunning), then deliver mail that is due (new, or a retry after a failure). */
  async scheduled(_controller: ScheduledController, env: Env): Promise<void> {
    if (configProblem(env)) return;
    const charged = await withDb(env, (db) => chargeUnrated(db)).catch((error: unknown) => log.warn('billing.sweep_failed', {}, error));
    if (charged) log.info('billing.charged_late', { calls: charged });
    const invoices = await runDueInvoices(env).catch((error: unknown) => log.warn('billing.invoice_run_failed', {}, error));
    if (invoices && (invoices.built || invoices.failed)) log.info('billing.invoice_run', invoices);
    await chargeUnchargedInvoices(env).catch((error: unknown) => log.warn('billing.charge_sweep_failed', {}, error));
    const collector = collectorFor(env);
    const dunning = collector && (await runDunning(collector).catch((error: unknown) => log.warn('billing.dunning_failed', {}, error)));
    if (dunning?.looked) log.info('billing.dunning_run', dunning);
    const { sent, failed } = await deliverOutbox(env);
    if (sent || failed) log.info('mail.delivered', { sent, failed });
  },
} satisfies ExportedHandler<Env>;

/**
 * A misconfigured edge answers every request with 500 and logs each wrong variable (once per
 * isolate), rather than failing somewhere later with NaN; clients learn nothing of its settings.
 */
function configProblem(env: Env): Response | null {
  try {
    config(env);
    return null;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (!reported.has(env)) {
      reported.add(env);
      log.error('config.invalid', { problems: error.problems.join('; ') });
    }
    return json(new ApiError(ErrorCode.internal, 'the edge is misconfigured; its log names the problem').toBody(), 500);
  }
}

const reported = new WeakSet<object>();
