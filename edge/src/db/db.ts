/**
 * What every table module takes: something that runs a query. Kept apart from client.ts (the
 * Worker's connections) so Node commands such as edge/scripts/billing.ts can use table modules
 * with a WebSocket `Client`, which fits this shape as it is.
 */
export interface QueryRows<R> {
  rows: R[];
  rowCount: number | null;
}

export interface Db {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are typed by each caller, as with pg's own `query<R>`
  query<R extends Record<string, any> = any>(text: string, params?: unknown[]): Promise<QueryRows<R>>;
}
