/**
 * The calls a hub's user is in, ringing or active, in the hub's SQLite: what makes the user busy,
 * and what a reconnecting device gets back in `hello.activeCalls`. CallSession tracks and untracks
 * through the hub; an entry whose session ended without untracking (a missed RPC) is found stale.
 */
import type { Env } from '../env.ts';
import { callSession } from '../objects/stubs.ts';
import type { TrackedStatus } from './types.ts';

export interface TrackedCall {
  callId: string;
  state: TrackedStatus;
  tenantId: string;
}

export class UserCalls {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
  ) {
    sql.exec(`create table if not exists calls (call_id text primary key, status text not null, tenant_id text not null)`);
  }

  track(callId: string, status: TrackedStatus, tenantId: string): void {
    this.sql.exec(
      `insert into calls (call_id, status, tenant_id) values (?, ?, ?)
       on conflict (call_id) do update set status = excluded.status`,
      callId,
      status,
      tenantId,
    );
  }

  untrack(callId: string): void {
    this.sql.exec('delete from calls where call_id = ?', callId);
  }

  /** Whether the user is in a call (ringing or active): presence folds that into busy. */
  any(): boolean {
    return this.sql.exec('select 1 from calls limit 1').toArray().length > 0;
  }

  all(): TrackedCall[] {
    return this.sql
      .exec<{ call_id: string; status: TrackedStatus; tenant_id: string }>('select call_id, status, tenant_id from calls')
      .toArray()
      .map((row) => ({ callId: row.call_id, state: row.status, tenantId: row.tenant_id }));
  }

  /** Every entry, split by asking each session whether its call still occupies the user. */
  async checkLive(): Promise<{ live: TrackedCall[]; stale: TrackedCall[] }> {
    const checked = await Promise.all(this.all().map(async (call) => ({ call, live: await callSession(this.env, call.tenantId, call.callId).isLive() })));
    return { live: checked.filter(({ live }) => live).map(({ call }) => call), stale: checked.filter(({ live }) => !live).map(({ call }) => call) };
  }
}
