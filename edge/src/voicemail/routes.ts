/**
 * Voicemail over REST, each user their own mailbox only (another user's message, in this tenant or
 * another, is `not_found`), and the gateway's report of a new message, which is filed in the
 * mailbox of the user the number rang and mailed to them.
 */
import { ErrorCode, voicemailFileKey, type E164, type SipVoicemailReport, type VoicemailList, type VoicemailUpdate } from '@callstack/protocol';
import { clientIp, signedInUser } from '../auth/authenticate.ts';
import { recordAudit } from '../db/audit.ts';
import { withDb, withTransaction, type Db } from '../db/client.ts';
import { enqueueMail } from '../db/outbox.ts';
import { contactNameFor } from '../db/pstn.ts';
import {
  deleteVoicemails,
  fileVoicemail,
  findVoicemailFile,
  listVoicemails,
  mailboxOwner,
  markVoicemailHeard,
  voicemailFilesOf,
  type VoicemailFile,
} from '../db/voicemail.ts';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import { log } from '../log.ts';
import { deliverSoon } from '../mail/deliverOutbox.ts';
import type { Handler } from '../pipeline.ts';
import { eraseVoicemailFile, fetchVoicemailFile } from './gatewayFiles.ts';

const NO_MESSAGE = 'no such message';

export const voicemailList: Handler<'bearer'> = async ({ env, principal }) => {
  const { tenantId, userId } = signedInUser(principal);
  return json({ voicemails: await withDb(env, (db) => listVoicemails(db, tenantId, userId)) } satisfies VoicemailList);
};

/** The message's audio (Ogg Opus), streamed from its gateway; listening marks it heard. */
export const voicemailAudio: Handler<'bearer'> = async ({ request, env, principal, params }) => {
  const { tenantId, userId } = signedInUser(principal);
  const file = await withDb(env, (db) => ownFile(db, tenantId, userId, params.id!));
  const upstream = await fetchVoicemailFile(env, file);
  await withDb(env, async (db) => {
    await markVoicemailHeard(db, tenantId, userId, file.id, true);
    await recordAudit(db, {
      tenantId,
      actorType: principal.actorType,
      actorId: userId,
      action: 'voicemail.played',
      targetType: 'voicemail',
      targetId: file.id,
      ip: clientIp(request),
    });
  });
  return new Response(upstream.body, {
    headers: {
      'content-type': 'audio/ogg',
      ...(upstream.headers.get('content-length') ? { 'content-length': upstream.headers.get('content-length')! } : {}),
      'cache-control': 'no-store',
    },
  });
};

export const voicemailUpdate: Handler<'bearer', VoicemailUpdate> = async ({ env, principal, params, body }) => {
  const { tenantId, userId } = signedInUser(principal);
  const updated = await withDb(env, (db) => markVoicemailHeard(db, tenantId, userId, params.id!, body.heard));
  if (!updated) throw new ApiError(ErrorCode.notFound, NO_MESSAGE);
  return new Response(null, { status: 204 });
};

/** The file is erased on its gateway first: if that cannot be done, the message stays, listed, and the answer says so. */
export const voicemailDelete: Handler<'bearer'> = async ({ env, principal, params }) => {
  const { tenantId, userId } = signedInUser(principal);
  const file = await withDb(env, (db) => ownFile(db, tenantId, userId, params.id!));
  await eraseVoicemailFile(env, file);
  await withDb(env, (db) => deleteVoicemails(db, tenantId, userId, [file.id]));
  return new Response(null, { status: 204 });
};

/**
 * Erases every message of a user whose account is being erased: each file on its gateway, then its
 * row. A message whose gateway cannot be reached stays (logged), so erasing again finishes it.
 */
export async function eraseMailbox(env: Env, tenantId: string, userId: string): Promise<void> {
  const files = await withDb(env, (db) => voicemailFilesOf(db, tenantId, userId));
  const erased: string[] = [];
  for (const file of files) {
    try {
      await eraseVoicemailFile(env, file);
      erased.push(file.id);
    } catch (error) {
      log.warn('voicemail.erase_failed', { tenantId, userId, voicemailId: file.id, nodeUrl: file.nodeUrl }, error);
    }
  }
  if (erased.length > 0) await withDb(env, (db) => deleteVoicemails(db, tenantId, userId, erased));
}

/** A gateway recorded a message: it is filed once (a repeated report changes nothing) and its owner mailed. */
export const sipVoicemail: Handler<'node_event', SipVoicemailReport> = async ({ env, ctx, body }) => {
  const { voicemail, node } = body;
  if (voicemail.fileKey !== voicemailFileKey(voicemail.tenantId, voicemail.callId))
    throw new ApiError(ErrorCode.badRequest, "a message's file is kept under its tenant and call");
  const filed = await withTransaction(env, async (db) => {
    const filed = await fileVoicemail(db, node, voicemail);
    if (filed?.fresh) await mailOwner(db, env, voicemail.tenantId, filed.userId, filed.from, voicemail.durationMs);
    return filed;
  });
  if (!filed) throw new ApiError(ErrorCode.notFound, 'no such call from the outside to a user');
  if (filed.fresh) {
    log.info('voicemail.filed', {
      tenantId: voicemail.tenantId,
      callId: voicemail.callId,
      userId: filed.userId,
      nodeId: node.nodeId,
      durationMs: voicemail.durationMs,
    });
    ctx.waitUntil(deliverSoon(env));
  }
  return json({ id: filed.id });
};

async function ownFile(db: Db, tenantId: string, userId: string, id: string): Promise<VoicemailFile> {
  const file = await findVoicemailFile(db, tenantId, userId, id);
  if (!file) throw new ApiError(ErrorCode.notFound, NO_MESSAGE);
  return file;
}

async function mailOwner(db: Db, env: Env, tenantId: string, userId: string, from: E164 | null, durationMs: number): Promise<void> {
  const owner = await mailboxOwner(db, tenantId, userId);
  if (!owner) return;
  const name = from ? await contactNameFor(db, tenantId, userId, from) : null;
  const caller = from ? (name ? `${name} (${from})` : from) : 'a withheld number';
  const seconds = Math.max(1, Math.round(durationMs / 1000));
  const where = config(env).publicUrl ?? 'the CallStack softphone';
  await enqueueMail(db, {
    tenantId,
    to: owner.email,
    subject: `New voicemail from ${name ?? from ?? 'a withheld number'}`,
    text: `Hello ${owner.displayName},\n\n${caller} left you a voicemail message (${seconds} s).\nListen to it in ${where} (Voicemail).\n`,
  });
}
