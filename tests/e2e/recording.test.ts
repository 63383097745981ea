/**
 * Conference recording in real Chromium: the room's creator records from the meeting view (real
 * DTLS-SRTP, simulcast VP8 with three layers on the way in; the node's recorder consumes one layer
 * into ffmpeg), everyone sees the red indicator (one who joins after the start too), the Recordings
 * page lists the recording for a participant, and each track downloaded with the participant's
 * token is what ffprobe says it should be: opus, or VP8 that decodes at a real size, each as long
 * as the time it was recorded. A participant who may not record has no Record button and is
 * refused (`forbidden`) when the page sends the request anyway.
 *
 * The room lands on a media node of the test's own (the stack's node is drained, or already dead
 * after the integration suite).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { RecordingView } from '@callstack/protocol';
import type { Browser, Page } from 'playwright-core';
import { eventually, launchBrowser, signIn, type Softphone } from '../lib/browser.ts';
import { api, createTenant, login, type TestTenant } from '../lib/fixtures.ts';
import { useOwnMediaNode } from '../lib/mediaNodes.ts';
import { stack } from '../lib/stack.ts';

const run = promisify(execFile);
/** How long media flows while recording, after the second participant sends. */
const FLOW_MS = 6_000;

let browser: Browser;
let tenant: TestTenant;
let bob: Softphone; // a user: records the rooms he creates
let dave: Softphone; // a user: may not record bob's rooms
before(async () => {
  browser = await launchBrowser();
  tenant = await createTenant();
  [bob, dave] = await Promise.all([signIn(browser, tenant.users.bob), signIn(browser, tenant.users.dave)]);
});
after(async () => {
  await Promise.all([bob, dave].filter(Boolean).map((phone) => phone.context.close()));
  await browser?.close();
});
useOwnMediaNode('recording-media', 43400);

const joined = (page: Page) => page.locator('[data-testid=room-view][data-phase=joined]').waitFor({ timeout: 30_000 });
const indicator = (page: Page) => page.locator('[data-testid=room-badges] [data-testid=recording-indicator]');

/** Bob starts a meeting and is in it; resolves with its link. */
async function startMeeting(): Promise<string> {
  await bob.page.locator('[data-testid=nav-meetings]').click();
  await bob.page.locator('[data-testid=start-meeting]').click();
  await joined(bob.page);
  return bob.page.locator('[data-testid=room-link]').inputValue();
}

/** Video packets `page` sent and received so far (Conference.stats through the test hook). */
async function videoPackets(page: Page): Promise<{ sent: number; received: number }> {
  return page.evaluate(async () => {
    type Stats = { inbound: { kind: string; packetsReceived: number }[]; outbound: { kind: string; packetsSent: number }[] };
    const conference = (window as unknown as { __callstack: { conference(): { stats(): Promise<Stats> } | null } }).__callstack.conference();
    if (!conference) return { sent: 0, received: 0 };
    const stats = await conference.stats();
    return {
      sent: stats.outbound.filter((o) => o.kind === 'video').reduce((sum, o) => sum + o.packetsSent, 0),
      received: stats.inbound.filter((i) => i.kind === 'video').reduce((sum, i) => sum + i.packetsReceived, 0),
    };
  });
}

interface Probed {
  streams: { codec_name: string; width?: number; height?: number; nb_read_frames?: string }[];
  format: { duration: string };
}

test('the creator records from the meeting; both see the indicator; each track is real opus or VP8 as long as it was recorded', async (t) => {
  const link = await startMeeting();
  const record = bob.page.locator('[data-testid=room-record]');
  assert.equal(await record.textContent(), 'Record');
  assert.equal(await indicator(bob.page).count(), 0);

  // Bob alone records his own tracks from here (once he sends: an empty room is refused); Dave's
  // start once he joins and sends.
  await eventually('bob sends video', async () => (await videoPackets(bob.page)).sent > 0);
  const recordClicked = Date.now();
  await record.click();
  await indicator(bob.page).waitFor({ timeout: 20_000 });
  const recordingStarted = Date.now();
  assert.equal(await record.textContent(), 'Stop recording');
  assert.match((await indicator(bob.page).textContent()) ?? '', /^Recording 0:0\d · started by Bob/);

  // Joining after the start: the indicator comes with room.joined. Dave may not record.
  const daveArrived = Date.now();
  await dave.page.goto(link);
  await joined(dave.page);
  await indicator(dave.page).waitFor({ timeout: 5_000 });
  assert.match((await indicator(dave.page).textContent()) ?? '', /started by Bob/);
  assert.equal(await dave.page.locator('[data-testid=room-record]').count(), 0);
  await eventually('bob receives dave’s video', async () => (await videoPackets(bob.page)).received > 0);
  const daveSending = Date.now();

  await bob.page.waitForTimeout(FLOW_MS);
  // The label ticks: more than the flow's seconds have passed since the start.
  const shown = /Recording (\d+):(\d\d)/.exec((await indicator(dave.page).textContent()) ?? '');
  assert.ok(shown && Number(shown[1]) * 60 + Number(shown[2]) >= FLOW_MS / 1000, `dave's indicator says ${shown?.[0]}`);
  // Files end when the stop reaches the node; the indicator goes once they are finished and stored.
  const recordingEnded = Date.now();
  await record.click();
  await Promise.all([bob.page, dave.page].map((page) => indicator(page).waitFor({ state: 'detached', timeout: 20_000 })));
  const stopMs = Date.now() - recordingEnded;
  assert.equal(await record.textContent(), 'Record');
  assert.equal(await bob.page.locator('[data-testid=room-notice]').count(), 0);

  // The Recordings page lists it for a participant who did not start it.
  await dave.page.locator('[data-testid=room-leave]').click();
  await dave.page.locator('[data-testid=nav-recordings]').click();
  const row = dave.page.locator('[data-testid=recording-row][data-status=completed]');
  await row.waitFor({ timeout: 10_000 });
  const recordingId = (await row.getAttribute('data-recording-id'))!;
  assert.equal(await row.locator('[data-testid=recording-download]').count(), 4, 'mic and camera of each');

  const token = (await login(tenant.users.dave)).accessToken;
  const got = await api<RecordingView>('GET', `/api/recordings/${recordingId}`, { auth: token });
  assert.equal(got.status, 200);
  const recording = got.body;
  assert.equal(recording.status, 'completed');
  assert.equal(recording.startedBy.userId, tenant.users.bob.id);
  // Each file lasts from its track's start to the stop. Bob's start between the click and the
  // indicator; Dave's between his arrival and Bob receiving his video (about when his producer
  // came, which is when the recorder takes it). Bounds in ms, with slack for the way to the node.
  // A file starts at its track's first key frame once its ffmpeg listens: up to ~1 s late for a
  // track recorded from the start, ~2 s for one joining a recording under way (its ffmpeg starts
  // then), 3 s allowed as CI's two loaded cores were seen at 2.01 s; the upper bounds stay tight.
  const bounds: Record<string, [number, number]> = {
    [tenant.users.bob.id]: [recordingEnded - recordingStarted - 1_000, recordingEnded - recordClicked + 1_000],
    [tenant.users.dave.id]: [recordingEnded - daveSending - 3_000, recordingEnded - daveArrived + 1_000],
  };
  const figures: string[] = [
    `recording ${recording.durationMs} ms (row); click to indicator ${recordingStarted - recordClicked} ms, stop to indicator gone ${stopMs} ms`,
  ];
  const checks: (() => void)[] = [];
  for (const track of recording.tracks) {
    const response = await fetch(`${stack.url}${track.downloadPath}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
    const path = stack.tmp(`recording-${track.trackId}.${track.kind === 'audio' ? 'ogg' : 'webm'}`);
    writeFileSync(path, Buffer.from(await response.arrayBuffer()));
    // -count_frames decodes every frame: a file that does not decode has none.
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-show_entries',
      'stream=codec_name,width,height,nb_read_frames:format=duration',
      '-of',
      'json',
      path,
    ]);
    const probed = JSON.parse(stdout) as Probed;
    const [stream] = probed.streams;
    assert.equal(probed.streams.length, 1);
    const ms = Math.round(Number(probed.format.duration) * 1000);
    const frames = Number(stream!.nb_read_frames);
    const who = track.user?.userId === tenant.users.bob.id ? 'bob' : 'dave';
    const [min, max] = bounds[track.user!.userId]!;
    const figure = `${who} ${track.source}: ${stream!.codec_name} ${stream!.width ?? ''}x${stream!.height ?? ''} ${frames} frames, ${ms} ms in the file (${min}..${max} expected)`;
    figures.push(figure);
    // Checked once every figure is logged.
    checks.push(() => {
      if (track.kind === 'audio') {
        assert.equal(stream!.codec_name, 'opus');
        // Not a frame count: with DTX the fake microphone's silences send next to nothing.
        assert.ok(frames > 0, `${figure}: no opus frame decoded`);
      } else {
        assert.equal(stream!.codec_name, 'vp8');
        assert.ok(stream!.width! >= 240 && stream!.height! >= 135, figure);
        // The camera runs at 15 fps; at least 5 decoded frames a second.
        assert.ok(frames >= (min / 1000) * 5, figure);
      }
      assert.ok(ms >= min && ms <= max, figure);
    });
  }
  t.diagnostic(figures.join('; '));
  for (const check of checks) check();
});

test('a participant who may not record has no Record button, and the edge refuses the request sent anyway', async () => {
  const link = await startMeeting();
  // The error frames of Dave's signaling socket (the page load below opens a new one).
  const codes: string[] = [];
  dave.page.on('websocket', (socket) =>
    socket.on('framereceived', ({ payload }) => {
      const frame = JSON.parse(String(payload)) as { type?: string; code?: string };
      if (frame.type === 'error' && frame.code) codes.push(frame.code);
    }),
  );
  await dave.page.goto(link);
  await joined(dave.page);
  assert.equal(await bob.page.locator('[data-testid=room-record]').count(), 1);
  assert.equal(await dave.page.locator('[data-testid=room-record]').count(), 0);

  // Through the page's own signaling socket, as the button would send it.
  await dave.page.evaluate(() =>
    (window as unknown as { __callstack: { conference(): { setRecording(on: boolean): Promise<void> } | null } }).__callstack.conference()!.setRecording(true),
  );
  await eventually('the edge’s error', async () => codes.length > 0, 5_000);
  assert.deepEqual(codes, ['forbidden']);
  const notice = dave.page.locator('[data-testid=room-notice]');
  assert.match((await notice.textContent({ timeout: 5_000 })) ?? '', /^Only the room creator or an operator\/admin may record/);
  assert.equal(await indicator(bob.page).count(), 0);
  assert.equal(await indicator(dave.page).count(), 0);
});
