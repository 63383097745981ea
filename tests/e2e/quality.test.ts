/**
 * Call quality in real Chromium: during a loopback call each softphone reports its getStats()
 * summary, shows the edge's MOS live, and after the hang-up the call history shows the MOS of the
 * call and Postgres holds both parties' quality rows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withClient } from '../../edge/scripts/migrations.ts';
import { call, callState, liveMos, signIn, useBrowser, waitForState } from '../lib/browser.ts';
import { createTenant, waitForCallRecord } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

const chromium = useBrowser();
const { phones } = chromium;

test('a loopback call shows a live MOS of at least 4, then the history shows it and the CDR holds the samples', async (t) => {
  const tenant = await createTenant();
  const alice = await signIn(chromium.browser, tenant.users.alice);
  const bob = await signIn(chromium.browser, tenant.users.bob);
  phones.push(alice, bob);

  await call(alice, tenant.users.bob);
  await bob.page.locator('[data-testid=accept]').click();
  await Promise.all([waitForState(alice, 'active'), waitForState(bob, 'active')]);
  const callId = await callState(alice).getAttribute('data-call-id');
  assert.ok(callId);
  assert.equal(await alice.page.locator('[data-testid=quality-indicator]').getAttribute('data-level'), 'unknown');

  const [aliceMos, bobMos] = await Promise.all([liveMos(alice.page), liveMos(bob.page)]);
  assert.ok(aliceMos >= 4 && aliceMos <= 4.5, `alice's MOS ${aliceMos}`);
  assert.ok(bobMos >= 4 && bobMos <= 4.5, `bob's MOS ${bobMos}`);
  assert.match((await alice.page.locator('[data-testid=quality-indicator]').textContent()) ?? '', /^Excellent · MOS 4\.\d$/);
  assert.equal(await alice.page.locator('[data-testid=quality-warning]').count(), 0);

  await alice.page.locator('[data-testid=hangup]').click();
  await Promise.all([waitForState(alice, 'ended'), waitForState(bob, 'ended')]);
  await waitForCallRecord(callId);
  const rows = await withClient(
    stack.database,
    async (client) =>
      (
        await client.query<{ user_id: string; samples: number; mos_min: number; mos_avg: number; codec: string }>(
          'select * from call_quality where call_id = $1',
          [callId],
        )
      ).rows,
  );
  assert.deepEqual(rows.map((row) => row.user_id).sort(), [tenant.users.alice.id, tenant.users.bob.id].sort());
  for (const row of rows) {
    assert.ok(row.samples > 0, `${row.user_id}: ${row.samples} samples`);
    assert.ok(row.mos_min >= 4, `${row.user_id}: MOS min ${row.mos_min}`);
    assert.equal(row.codec, 'opus');
  }
  t.diagnostic(
    `live MOS alice ${aliceMos}, bob ${bobMos}; CDR ${JSON.stringify(rows.map(({ samples, mos_min, mos_avg }) => ({ samples, mos_min, mos_avg })))}`,
  );

  const historyMos = bob.page.locator(`[data-testid=history-row][data-call-id="${callId}"] [data-testid=history-mos]`);
  await historyMos.waitFor({ timeout: 15_000 });
  const bobRow = rows.find((row) => row.user_id === tenant.users.bob.id)!;
  assert.equal(Number(await historyMos.getAttribute('data-mos')), Number(bobRow.mos_avg));
  assert.equal(await historyMos.textContent(), `MOS ${Number(bobRow.mos_avg).toFixed(1)}`);
});
