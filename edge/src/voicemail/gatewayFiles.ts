/**
 * Messages' files on the gateway that recorded them, over its signed control API
 * (protocol/src/voicemail.ts): streamed to their owner, or erased.
 */
import { CONTROL_SIGNATURE_HEADER, ErrorCode, signControlRequest, voicemailFilePath, type VoicemailFileKey } from '@callstack/protocol';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import type { VoicemailFile } from '../db/voicemail.ts';

const TIMEOUT_MS = 5_000;

/** The file as a streaming response; `not_found` when the gateway no longer has it. */
export async function fetchVoicemailFile(env: Env, file: VoicemailFile): Promise<Response> {
  const response = await signedRequest(env, 'GET', file);
  if (response.ok) return response;
  await response.body?.cancel();
  if (response.status === 404) throw new ApiError(ErrorCode.notFound, 'the gateway that recorded this message no longer has it');
  throw unreachable();
}

/** Erases the file (already gone counts as erased); `media_unavailable` when the gateway cannot be reached. */
export async function eraseVoicemailFile(env: Env, file: VoicemailFile): Promise<void> {
  const response = await signedRequest(env, 'DELETE', file);
  await response.body?.cancel();
  if (!response.ok && response.status !== 404) throw unreachable();
}

async function signedRequest(env: Env, method: 'GET' | 'DELETE', file: VoicemailFile): Promise<Response> {
  const secret = config(env).mediaControlSecret;
  if (!secret) throw new ApiError(ErrorCode.mediaUnavailable, 'voicemail is not configured on this edge');
  const path = voicemailFilePath(file.fileKey as VoicemailFileKey);
  // The timeout covers the answer's headers only: a long message may take longer to stream.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  try {
    return await fetch(new URL(path, file.nodeUrl), {
      method,
      headers: { [CONTROL_SIGNATURE_HEADER]: await signControlRequest(secret, { method, path, body: '' }) },
      signal: abort.signal,
    });
  } catch {
    throw unreachable();
  } finally {
    clearTimeout(timer);
  }
}

function unreachable(): ApiError {
  return new ApiError(ErrorCode.mediaUnavailable, 'the gateway that holds this message is not reachable; try again shortly');
}
