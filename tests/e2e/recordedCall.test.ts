/**
 * A recorded 1:1 call in real Chromium: alice ticks "Record my calls" and calls bob, bob is told
 * the call will be recorded and accepts, both run the call through the SFU (the call's room) and
 * receive each other's audio and video, both see the Recording badge; after hang-up both find the
 * recording in `GET /api/recordings`, linked to the call, and ffprobe measures its files close to
 * the call's length.
 *
 * The room lands on a media node of the test's own (the stack's node is drained, or already dead
 * after the integration suite).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import type { RecordingsResponse } from '@callstack/protocol';
import type { ConferenceStats } from '../../web/src/conference/ConferenceTypes.ts';
import { call, callState, eventually, signIn, type Softphone, useBrowser, waitForState } from '../lib/browser.ts';
import { api, createTenant, login, waitForCallRecord, type TestUser } from '../lib/fixtures.ts';
import { useOwnMediaNode } from '../lib/mediaNodes.ts';
import { stack } from '../lib/stack.ts';

const run = promisify(execFile);
const dir = mkdtempSync(joinPath(tmpdir(), 'callstack-recorded-call-'));
const chromium = useBrowser();
const { phones } = chromium;
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
useOwnMediaNode('recorded-call-media', 43400);

/** What the web app exposes for tests (web/src/app.tsx). */
type Hooks = { __callstack: { peerConnection(): RTCPeerConnection | null; callConference(): { stats(): Promise<ConferenceStats> } | null } };

interface Received {
  phase: string;
  audio: number;
  video: number;
  framesDecoded: number;
}

/** What the call's conference received from the other party (`stats()` of the Conference). */
async function received(phone: Softphone): Promise<Received> {
  // Only a plain expression runs in the page (the test's compiler wraps named functions).
  const stats = await phone.page.evaluate(() => (window as unknown as Hooks).__callstack.callConference()?.stats() ?? null);
  if (!stats) return { phase: 'none', audio: 0, video: 0, framesDecoded: 0 };
  const packets = (kind: string) => stats.inbound.filter((s) => s.kind === kind).reduce((total, s) => total + s.packetsReceived, 0);
  return {
    phase: stats.phase,
    audio: packets('audio'),
    video: packets('video'),
    framesDecoded: stats.inbound.reduce((total, s) => total + s.framesDecoded, 0),
  };
}

test('alice records a call with bob: told, flowing both ways through the SFU, badge, recording for both', async () => {
  const tenant = await createTenant();
  const { alice: aliceUser, bob: bobUser } = tenant.users;
  const alice = await signIn(chromium.browser, aliceUser);
  const bob = await signIn(chromium.browser, bobUser);
  phones.push(alice, bob);

  await alice.page.locator('[data-testid=call-record]').check();
  await call(alice, bobUser);
  const incoming = bob.page.locator('[data-testid=incoming-call]');
  await incoming.waitFor();
  assert.equal(await incoming.locator('[data-testid=call-recorded-notice]').textContent(), 'This call will be recorded');
  await bob.page.locator('[data-testid=accept]').click();
  await Promise.all([waitForState(alice, 'active', 30_000), waitForState(bob, 'active', 30_000)]);
  const answeredAt = Date.now();
  const callId = (await callState(alice).getAttribute('data-call-id'))!;
  assert.equal(await alice.page.evaluate(() => (window as unknown as Hooks).__callstack.peerConnection()), null, 'no peer-to-peer connection');

  for (const [phone, who] of [
    [alice, 'alice'],
    [bob, 'bob'],
  ] as const) {
    await eventually(
      `${who} receives audio and video`,
      async () => {
        const got = await received(phone);
        return got.audio >= 50 && got.video >= 50 && got.framesDecoded >= 10;
      },
      30_000,
    );
    await phone.page.locator('[data-testid=call-recording]').filter({ hasText: 'Recording' }).waitFor({ timeout: 15_000 });
  }
  await alice.page.locator('video[data-testid=remote-video]').waitFor();
  // From here both parties' media flows and is being recorded.
  const flowingAt = Date.now();

  // Let the recording run a while, so its length says something.
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  await alice.page.locator('[data-testid=hangup]').click();
  const hungUpAt = Date.now();
  await Promise.all([waitForState(alice, 'ended'), waitForState(bob, 'ended')]);
  assert.equal(await callState(bob).getAttribute('data-reason'), 'hangup');
  const cdr = await waitForCallRecord(callId);
  const callMs = cdr.duration_ms;
  assert.ok(Math.abs(callMs - (hungUpAt - answeredAt)) < 3_000, `CDR ${callMs} ms`);

  const recordingOf = async (user: TestUser) => {
    const token = (await login(user)).accessToken;
    let found: RecordingsResponse['recordings'][number] | undefined;
    await eventually(`${user.displayName}'s recording completes`, async () => {
      const { body } = await api<RecordingsResponse>('GET', '/api/recordings', { auth: token });
      found = body.recordings.find((r) => r.callId === callId);
      return found?.status === 'completed';
    });
    return { recording: found!, token };
  };
  const [forAlice, forBob] = await Promise.all([recordingOf(aliceUser), recordingOf(bobUser)]);
  assert.equal(forAlice.recording.id, forBob.recording.id, 'one recording, visible to both');
  const { recording, token } = forBob;
  assert.equal(recording.startedBy.userId, aliceUser.id, 'started in the caller’s name');
  const kinds = (userId: string) =>
    recording.tracks
      .filter((t) => t.user?.userId === userId)
      .map((t) => t.kind)
      .sort();
  assert.deepEqual(kinds(aliceUser.id), ['audio', 'video']);
  assert.deepEqual(kinds(bobUser.id), ['audio', 'video']);

  for (const track of recording.tracks) {
    const file = await fetch(`${stack.url}${track.downloadPath}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(file.status, 200);
    const path = joinPath(dir, `${track.trackId}.${track.kind === 'audio' ? 'ogg' : 'webm'}`);
    writeFileSync(path, Buffer.from(await file.arrayBuffer()));
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', path]);
    const ms = Number((JSON.parse(stdout) as { format: { duration: string } }).format.duration) * 1000;
    // The call counts from the answer, but media starts only once both joined the room (camera,
    // transports) and each track's recorder is up: every file covers at least the time the media
    // was seen flowing until hang-up, and never more than the call.
    const flowedMs = hungUpAt - flowingAt;
    console.log(`recorded ${track.kind} of ${track.user?.displayName}: ${Math.round(ms)} ms in the file; call ${callMs} ms, flowing ${flowedMs} ms`);
    assert.ok(
      ms <= callMs + 500 && ms >= flowedMs - 500,
      `${track.kind} of ${track.user?.displayName}: ${ms} ms in the file, call ${callMs} ms, flowing ${flowedMs} ms`,
    );
  }
});
