/**
 * Recordings over REST: the list and one recording (participants see theirs, roles with
 * `recordings.read_all` see the tenant's), and a track's file. Local-disk files stream from the
 * node that recorded them through its signed control API; S3 files answer with a redirect to a
 * presigned URL valid for five minutes. Another tenant's recording is `not_found`; one of the
 * tenant's the caller may not see is `forbidden`. Downloads are audited.
 */
import { can, ErrorCode, presignUrl, s3ObjectUrl, type RecordingsResponse, type RecordingView } from '@callstack/protocol';
import { clientIp } from '../auth/authenticate.ts';
import type { Principal } from '../auth/tokens.ts';
import { recordAudit } from '../db/audit.ts';
import { withDb } from '../db/client.ts';
import { findRecording, findTrackFile, listRecordings, type Visibility } from '../db/recordings.ts';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import type { Handler } from '../pipeline.ts';
import { fetchRecordingFile, NodeUnreachable } from '../rooms/control.ts';

const PRESIGNED_SECONDS = 300;

export const recordingsList: Handler<'bearer'> = async ({ env, principal: actor }) => {
  const recordings = await withDb(env, (db) => listRecordings(db, actor.tenantId, visibility(actor)));
  return json({ recordings } satisfies RecordingsResponse);
};

export const recordingGet: Handler<'bearer'> = async ({ env, principal: actor, params }) =>
  json(await withDb(env, (db) => visibleRecording(db, actor, params.id!)));

export const recordingTrackFile: Handler<'bearer'> = async ({ request, env, principal: actor, params }) => {
  const recordingId = params.id!;
  const trackId = params.trackId!;
  const file = await withDb(env, async (db) => {
    const recording = await visibleRecording(db, actor, recordingId);
    const track = recording.tracks.find((t) => t.trackId === trackId);
    const found = track && (await findTrackFile(db, recordingId, trackId));
    if (!found) throw new ApiError(ErrorCode.notFound, 'no such track in this recording');
    await recordAudit(db, {
      tenantId: actor.tenantId,
      actorType: actor.actorType,
      actorId: actor.userId,
      action: 'recording.downloaded',
      targetType: 'recording',
      targetId: recordingId,
      ip: clientIp(request),
      details: { trackId, storage: found.storage },
    });
    return found;
  });
  const fileName = file.fileKey.slice(file.fileKey.indexOf('/') + 1);
  if (file.storage === 's3') return Response.redirect(await presignedDownload(env, file.fileKey), 302);
  const secret = config(env).mediaControlSecret;
  if (!secret) throw new ApiError(ErrorCode.mediaUnavailable, 'recordings are not configured on this edge');
  let upstream: Response;
  try {
    upstream = await fetchRecordingFile(file.nodeUrl, secret, file.fileKey);
  } catch (error) {
    if (error instanceof NodeUnreachable) throw new ApiError(ErrorCode.mediaUnavailable, 'the media node that holds this recording is not reachable');
    throw error;
  }
  return new Response(upstream.body, {
    headers: {
      'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
      ...(upstream.headers.get('content-length') ? { 'content-length': upstream.headers.get('content-length')! } : {}),
      'content-disposition': `attachment; filename="${fileName}"`,
      'cache-control': 'no-store',
    },
  });
};

function visibility(actor: Principal): Visibility {
  return { userId: actor.userId, readAll: can(actor.role, 'recordings.read_all') };
}

async function visibleRecording(db: Parameters<typeof findRecording>[0], actor: Principal, recordingId: string): Promise<RecordingView> {
  const found = await findRecording(db, actor.tenantId, recordingId, visibility(actor));
  if (found === 'not_found') throw new ApiError(ErrorCode.notFound, 'no such recording');
  if (found === 'hidden')
    throw new ApiError(ErrorCode.forbidden, 'only people who were in the room while it was recorded (or operators and admins) may see this recording');
  return found;
}

async function presignedDownload(env: Env, key: string): Promise<string> {
  const storage = config(env).recordingsS3;
  if (!storage) throw new ApiError(ErrorCode.mediaUnavailable, 'recording storage is not configured on this edge');
  const { endpoint, bucket, region, accessKeyId, secretAccessKey } = storage;
  return presignUrl(
    { method: 'GET', url: s3ObjectUrl(endpoint, bucket, key), expiresSeconds: PRESIGNED_SECONDS },
    { region, service: 's3', credentials: { accessKeyId, secretAccessKey }, now: new Date() },
  );
}
