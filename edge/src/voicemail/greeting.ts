/**
 * A person's own voicemail greeting: uploaded as the request's body (an audio file of one of
 * `GREETING_CONTENT_TYPES`, at most `GREETING_MAX_BYTES`, whose first bytes must be that format's),
 * kept with the account, played back to its owner, and handed to the gateway taking a message for
 * them (which converts it for rtpengine). Without one, callers hear the shipped greeting.
 */
import {
  ErrorCode,
  GREETING_CONTENT_TYPES,
  GREETING_MAX_BYTES,
  type SipGreetingAnswer,
  type SipGreetingRequest,
  type VoicemailGreetingInfo,
} from '@callstack/protocol';
import { signedInUser } from '../auth/authenticate.ts';
import { withDb } from '../db/client.ts';
import { deleteGreeting, findGreeting, saveGreeting } from '../db/voicemail.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import type { Handler } from '../pipeline.ts';

type GreetingType = (typeof GREETING_CONTENT_TYPES)[number];

export const greetingPut: Handler<'bearer'> = async ({ request, env, principal }) => {
  const { tenantId, userId } = signedInUser(principal);
  const contentType = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!(GREETING_CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw new ApiError(ErrorCode.unsupportedMediaType, `send the greeting as one of ${GREETING_CONTENT_TYPES.join(', ')}`);
  }
  if (Number(request.headers.get('content-length')) > GREETING_MAX_BYTES) throw tooLarge();
  const audio = new Uint8Array(await request.arrayBuffer());
  if (audio.byteLength > GREETING_MAX_BYTES) throw tooLarge();
  if (!looksLike(contentType as GreetingType, audio)) throw new ApiError(ErrorCode.badRequest, `the file is not ${contentType} audio`);
  await withDb(env, (db) => saveGreeting(db, tenantId, userId, contentType, toBase64(audio)));
  return new Response(null, { status: 204 });
};

export const greetingGet: Handler<'bearer'> = async ({ env, principal }) => {
  const { tenantId, userId } = signedInUser(principal);
  const greeting = await withDb(env, (db) => findGreeting(db, tenantId, userId));
  if (!greeting) throw new ApiError(ErrorCode.notFound, 'you have no greeting of your own: callers hear the default');
  return new Response(fromBase64(greeting.audioBase64), { headers: { 'content-type': greeting.contentType, 'cache-control': 'no-store' } });
};

export const greetingInfo: Handler<'bearer'> = async ({ env, principal }) => {
  const { tenantId, userId } = signedInUser(principal);
  const greeting = await withDb(env, (db) => findGreeting(db, tenantId, userId));
  return json({ own: greeting !== null, updatedAt: greeting?.updatedAt.toISOString() ?? null } satisfies VoicemailGreetingInfo);
};

export const greetingDelete: Handler<'bearer'> = async ({ env, principal }) => {
  const { tenantId, userId } = signedInUser(principal);
  await withDb(env, (db) => deleteGreeting(db, tenantId, userId));
  return new Response(null, { status: 204 });
};

/** The gateway taking a message for `userId`: their greeting, or `not_found` (the default plays). */
export const sipGreeting: Handler<'node_event', SipGreetingRequest> = async ({ env, body }) => {
  const greeting = await withDb(env, (db) => findGreeting(db, body.tenantId, body.userId));
  if (!greeting) throw new ApiError(ErrorCode.notFound, 'no greeting of their own');
  return json({ contentType: greeting.contentType as GreetingType, audio: greeting.audioBase64 } satisfies SipGreetingAnswer);
};

function tooLarge(): ApiError {
  return new ApiError(ErrorCode.messageTooLarge, `a greeting is at most ${GREETING_MAX_BYTES / 1024} KiB`);
}

/** The format's signature in the first bytes (a file renamed to .wav is refused here, not by ffmpeg later). */
function looksLike(type: GreetingType, audio: Uint8Array): boolean {
  const ascii = (from: number, to: number) => String.fromCharCode(...audio.subarray(from, to));
  switch (type) {
    case 'audio/wav':
    case 'audio/x-wav':
    case 'audio/wave':
      return ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE';
    case 'audio/ogg':
      return ascii(0, 4) === 'OggS';
    case 'audio/webm':
      return audio[0] === 0x1a && audio[1] === 0x45 && audio[2] === 0xdf && audio[3] === 0xa3;
    case 'audio/mpeg':
      return ascii(0, 3) === 'ID3' || (audio[0] === 0xff && ((audio[1] ?? 0) & 0xe0) === 0xe0);
    default:
      return type satisfies never;
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000) binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}
