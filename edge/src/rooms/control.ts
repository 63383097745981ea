/**
 * Signed control requests from the edge to a media node (protocol/mediaControl.ts). The node's
 * answers are validated like any other input, with the request type's response schema in
 * `CONTROL_API`. Two kinds of failure: the node refused the request (4xx: a typed error for the
 * participant), or the node could not answer (network error, timeout, 5xx other than
 * `draining`): `NodeUnreachable`, on which the room moves.
 */
import {
  CONTROL_API,
  CONTROL_SIGNATURE_HEADER,
  ErrorCode,
  MediaErrorBody,
  recordingFilePath,
  signControlRequest,
  toControlHttp,
  type ControlRequestInput,
  type ControlRequestType,
  type ControlResponses,
} from '@callstack/protocol';
import * as v from 'valibot';
import { ApiError } from '../errors.ts';

const TIMEOUT_MS = 5_000;
/**
 * Recording waits on ffmpeg: starting spawns one per track, stopping lets each end its file (the
 * node kills one after 10 s) and measures it. With Chromium's media on a busy node a stop took
 * over 5 s: cut off there, the recording ended `interrupted` without its tracks.
 */
const SLOW_TIMEOUT_MS: Partial<Record<ControlRequestType, number>> = { 'recording.start': 12_000, 'recording.stop': 12_000 };

/** The node did not answer usefully: the room should move to another node. */
export class NodeUnreachable extends Error {
  override name = 'NodeUnreachable';
}

/** The node is draining and refused a new room: try another node (not a failure of the node). */
export class NodeDraining extends Error {
  override name = 'NodeDraining';
}

export async function controlRequest<R extends ControlRequestInput>(controlUrl: string, secret: string, request: R): Promise<ControlResponses[R['type']]> {
  const http = toControlHttp(request);
  const body = http.body ?? '';
  let response: Response;
  try {
    response = await fetch(new URL(http.path, controlUrl), {
      method: http.method,
      headers: {
        'content-type': 'application/json',
        [CONTROL_SIGNATURE_HEADER]: await signControlRequest(secret, { method: http.method, path: http.path, body }),
      },
      body: http.body,
      signal: AbortSignal.timeout(SLOW_TIMEOUT_MS[request.type] ?? TIMEOUT_MS),
    });
  } catch (error) {
    throw new NodeUnreachable(`${request.type}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new NodeUnreachable(`${request.type}: HTTP ${response.status} without a JSON body`);
  }
  if (response.ok) {
    const parsed = v.safeParse(CONTROL_API[request.type].response, json);
    if (!parsed.success) throw new NodeUnreachable(`${request.type}: malformed answer`);
    return parsed.output as ControlResponses[R['type']];
  }
  const error = v.safeParse(MediaErrorBody, json);
  const code = error.success ? error.output.error.code : undefined;
  if (code === 'draining') throw new NodeDraining(`${request.type}: node is draining`);
  if (response.status >= 500 || !error.success) throw new NodeUnreachable(`${request.type}: HTTP ${response.status}`);
  throw toParticipantError(code!, error.output.error.message);
}

/**
 * A finished track file from the node that recorded it (local-disk storage), as a streaming
 * response; `NodeUnreachable` when the node does not answer, `not_found` when it lost the file.
 */
export async function fetchRecordingFile(controlUrl: string, secret: string, key: string): Promise<Response> {
  const [recordingId, fileName] = key.split('/') as [string, string];
  const path = recordingFilePath(recordingId, fileName);
  let response: Response;
  // The timeout covers the answer's headers only: a large file may take longer to stream.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  try {
    response = await fetch(new URL(path, controlUrl), {
      headers: { [CONTROL_SIGNATURE_HEADER]: await signControlRequest(secret, { method: 'GET', path, body: '' }) },
      signal: abort.signal,
    });
  } catch (error) {
    throw new NodeUnreachable(`recording file: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
  if (response.ok) return response;
  await response.body?.cancel();
  if (response.status === 404) throw new ApiError(ErrorCode.notFound, 'the media node no longer has this file');
  throw new NodeUnreachable(`recording file: HTTP ${response.status}`);
}

/** A node's refusal as the participant sees it; the node's own auth problems are ours, not theirs. */
function toParticipantError(code: v.InferOutput<typeof MediaErrorBody>['error']['code'], message: string): ApiError {
  switch (code) {
    case 'bad_request':
    case 'not_found':
    case 'conflict':
    case 'invalid_state':
      return new ApiError(code, message);
    case 'cannot_consume':
      return new ApiError(ErrorCode.invalidState, `cannot consume: ${message}`);
    case 'payload_too_large':
      return new ApiError(ErrorCode.messageTooLarge, message);
    case 'unauthorized':
    case 'signature_expired':
    case 'replayed':
    case 'method_not_allowed':
    case 'draining':
    case 'internal':
      // Misconfiguration between edge and node (secret, clock, version): log it, show nothing internal.
      throw new NodeUnreachable(`node refused the edge: ${code}: ${message}`);
    default:
      return code satisfies never;
  }
}
