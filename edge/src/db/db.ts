/**
 * What every table module takes: something that runs a query. Kept apart from client.ts (the
 * Worker's connections) so Node commands such as edge/scripts/billing.ts can use table modules.
 */
import type { Client } from '@neondatabase/serverless';

export type Db = Pick<Client, 'query'>;
