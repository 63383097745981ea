/**
 * Voicemail: an outside caller nobody answered (no answer, busy, declined, nobody reachable) is
 * greeted and recorded by the gateway that carries the call, instead of being turned away. The
 * edge decides (with the line's `call.ended`, `SipDelivery.voicemail`); the gateway answers the
 * carrier, plays the greeting through rtpengine, records what the caller says and reports the
 * message (`POST /api/sip/voicemail`, sip.ts `SipVoicemailReport`). The file stays on that gateway, which serves it to the edge
 * over its signed control API (`voicemailFilePath`), like a media node's recordings.
 */
import * as v from 'valibot';
import { ShownName } from './api.ts';
import { Id } from './ids.ts';
import { E164 } from './pstn.ts';

/** The longest message a caller may leave; the call is ended there. */
export const VOICEMAIL_MAX_SECONDS = 180;
/** A message shorter than this (a caller who hung up at the tone) is not kept. */
export const VOICEMAIL_MIN_MS = 1_000;

/** What the edge gives the gateway with the line's `call.ended`: take a message instead of hanging up. */
export const VoicemailDeposit = v.object({
  /** Whose mailbox: the gateway asks for their own greeting (`POST /api/sip/voicemail/greeting`). */
  mailbox: Id,
  maxSeconds: v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(VOICEMAIL_MAX_SECONDS)),
});
export type VoicemailDeposit = v.InferOutput<typeof VoicemailDeposit>;

/** `<tenantId>/<callId>.ogg`: where the gateway keeps a message (one per call). */
export const VoicemailFileKey = v.pipe(v.string(), v.maxLength(140), v.regex(/^[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_-]{1,64}\.ogg$/));
export type VoicemailFileKey = v.InferOutput<typeof VoicemailFileKey>;

export function voicemailFileKey(tenantId: string, callId: string): VoicemailFileKey {
  return `${tenantId}/${callId}.ogg`;
}

/** Where the gateway's control API serves messages' files (`GET` streams one, `DELETE` erases it; both signed). */
export const VOICEMAIL_FILES_PATH = '/voicemail/';

export function voicemailFilePath(key: VoicemailFileKey): string {
  return `${VOICEMAIL_FILES_PATH}${key}`;
}

const Milliseconds = v.pipe(v.number(), v.integer(), v.minValue(0));

/** A message the gateway recorded, for the call the edge handed to voicemail. */
export const VoicemailRecorded = v.object({
  callId: Id,
  tenantId: Id,
  fileKey: VoicemailFileKey,
  contentType: v.literal('audio/ogg'),
  /** When recording began (after the greeting), epoch ms. */
  startedAt: Milliseconds,
  durationMs: Milliseconds,
  sizeBytes: Milliseconds,
});
export type VoicemailRecorded = v.InferOutput<typeof VoicemailRecorded>;

/** A message in the user's mailbox (`GET /api/voicemail`); its audio is `GET /api/voicemail/:id/audio`. */
export const VoicemailView = v.object({
  id: Id,
  /** The caller's number; null when they withheld it. */
  from: v.nullable(E164),
  /** The name the user's contacts give that number. */
  fromName: v.nullable(ShownName),
  receivedAt: v.string(),
  durationMs: v.number(),
  heard: v.boolean(),
});
export type VoicemailView = v.InferOutput<typeof VoicemailView>;
export const VoicemailList = v.object({ voicemails: v.array(VoicemailView) });
export type VoicemailList = v.InferOutput<typeof VoicemailList>;
/** `PATCH /api/voicemail/:id`. */
export const VoicemailUpdate = v.object({ heard: v.boolean() });
export type VoicemailUpdate = v.InferOutput<typeof VoicemailUpdate>;

/** Audio a person may upload as their greeting (`PUT /api/voicemail/greeting`, the file as the body). */
export const GREETING_CONTENT_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/mpeg', 'audio/ogg', 'audio/webm'] as const;
export const GREETING_MAX_BYTES = 1024 * 1024;

/** `GET /api/voicemail/greeting/info`: whether callers hear the person's own greeting or the shipped one. */
export const VoicemailGreetingInfo = v.object({ own: v.boolean(), updatedAt: v.nullable(v.string()) });
export type VoicemailGreetingInfo = v.InferOutput<typeof VoicemailGreetingInfo>;

/** The gateway asks for a mailbox's own greeting; the answer carries it base64-encoded (404: none, the default plays). */
export const SipGreetingAnswer = v.object({ contentType: v.picklist(GREETING_CONTENT_TYPES), audio: v.pipe(v.string(), v.base64()) });
export type SipGreetingAnswer = v.InferOutput<typeof SipGreetingAnswer>;
