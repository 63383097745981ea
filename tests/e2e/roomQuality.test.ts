/**
 * Call quality in a meeting, in real Chromium: each of two participants reports the stats of their
 * mediasoup-client transports, sees the edge's live MOS in the room header, and once they leave
 * Postgres holds each stay's `room_sessions` row with its samples and MOS figures.
 *
 * The room lands on a media node of the test's own (the stack's node is drained, or already dead
 * after the integration suite).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { withClient } from '../../edge/scripts/migrations.ts';
import { eventually, liveMos, signIn, useBrowser } from '../lib/browser.ts';
import { createTenant } from '../lib/fixtures.ts';
import { useOwnMediaNode } from '../lib/mediaNodes.ts';
import { stack } from '../lib/stack.ts';

const chromium = useBrowser();
const { phones } = chromium;
useOwnMediaNode('room-quality-media', 43000);

async function peerIdOf(page: Page): Promise<string> {
  const view = page.locator('[data-testid=room-view][data-phase=joined]');
  await view.waitFor({ timeout: 30_000 });
  return (await view.getAttribute('data-peer-id'))!;
}

interface StayRow {
  session_id: string;
  user_id: string;
  duration_ms: number;
  samples: number;
  mos_min: number | null;
  mos_avg: number | null;
  loss_max: number | null;
  jitter_avg: number | null;
  rtt_avg: number | null;
  codec: string | null;
}

test('two people in a meeting each see a live MOS of at least 4; after they leave, their stays hold it', async (t) => {
  const tenant = await createTenant();
  const [alice, bob] = await Promise.all([signIn(chromium.browser, tenant.users.alice), signIn(chromium.browser, tenant.users.bob)]);
  phones.push(alice, bob);

  await alice.page.locator('[data-testid=nav-meetings]').click();
  await alice.page.locator('[data-testid=start-meeting]').click();
  const alicePeer = await peerIdOf(alice.page);
  const indicator = (page: Page) => page.locator('[data-testid=room-badges] [data-testid=quality-indicator]');
  // Alone in the room she receives no audio: nothing to rate yet.
  assert.equal(await indicator(alice.page).getAttribute('data-level'), 'unknown');

  await bob.page.goto(await alice.page.locator('[data-testid=room-link]').inputValue());
  const bobPeer = await peerIdOf(bob.page);
  const [aliceMos, bobMos] = await Promise.all([liveMos(alice.page), liveMos(bob.page)]);
  assert.ok(aliceMos >= 4 && aliceMos <= 4.5, `alice's MOS ${aliceMos}`);
  assert.ok(bobMos >= 4 && bobMos <= 4.5, `bob's MOS ${bobMos}`);
  for (const phone of [alice, bob]) {
    assert.match((await indicator(phone.page).textContent()) ?? '', /^Excellent · MOS 4\.\d$/);
    assert.equal(await phone.page.locator('[data-testid=quality-warning]').count(), 0);
  }

  for (const phone of [alice, bob]) await phone.page.locator('[data-testid=room-leave]').click();
  const peers = [alicePeer, bobPeer];
  let rows: StayRow[] = [];
  await eventually('both stays in room_sessions', async () => {
    rows = await withClient(
      stack.database,
      async (client) => (await client.query<StayRow>('select * from room_sessions where session_id = any($1)', [peers])).rows,
    );
    return rows.length === 2;
  });
  const userOf = { [alicePeer]: tenant.users.alice.id, [bobPeer]: tenant.users.bob.id };
  for (const row of rows) {
    assert.equal(row.user_id, userOf[row.session_id]);
    assert.ok(row.samples > 0, `${row.session_id}: ${row.samples} samples`);
    assert.ok(row.mos_min !== null && row.mos_min >= 4, `${row.session_id}: MOS min ${row.mos_min}`);
    assert.ok(row.mos_avg !== null && row.mos_avg >= row.mos_min && row.mos_avg <= 4.5, `${row.session_id}: MOS avg ${row.mos_avg}`);
    assert.ok(row.loss_max !== null && row.rtt_avg !== null && row.jitter_avg !== null);
    assert.equal(row.codec, 'opus');
    assert.ok(row.duration_ms > 0);
  }
  t.diagnostic(
    `live MOS alice ${aliceMos}, bob ${bobMos}; room_sessions ${JSON.stringify(rows.map(({ samples, mos_min, mos_avg, jitter_avg, rtt_avg }) => ({ samples, mos_min, mos_avg, jitter_avg, rtt_avg })))}`,
  );
});
