/**
 * The gateway's HTTP side, on its own port: the edge's signed deliveries for SIP devices
 * (`POST /devices/messages`, replay-protected by nonce) and the two calls Kamailio makes on
 * loopback with the node-local token: the HA1 for a digest check, a registration's outcome, and
 * whether a request without credentials comes from a carrier trunk. The edge also reads and erases
 * voicemail files here (`GET`/`DELETE /voicemail/<tenantId>/<callId>.ogg`, signed).
 */
import {
  CONTROL_SIGNATURE_HEADER,
  CONTROL_SIGNATURE_MAX_SKEW_SECONDS,
  NonceCache,
  SIP_DEVICE_MESSAGES_PATH,
  SipContact,
  SipDelivery,
  SipUsername,
  Text,
  SourceAddress,
  verifyControlSignature,
  VOICEMAIL_FILES_PATH,
  VoicemailFileKey,
} from '@callstack/protocol';
import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import * as v from 'valibot';
import { EdgeUnavailable, type EdgeClient } from './EdgeClient.ts';
import type { Gateway } from './Gateway.ts';
import type { TrunkSources } from './TrunkSources.ts';

const MAX_BODY_BYTES = 64 * 1024;
export const LOCAL_TOKEN_HEADER = 'x-callstack-local-token';

/** What Kamailio posts after a REGISTER was saved (sip-edge/kamailio/kamailio.cfg). */
const KamailioRegistration = v.object({
  username: SipUsername,
  contact: SipContact,
  expires: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400)),
  userAgent: v.optional(
    v.pipe(
      v.string(),
      v.transform((agent) => agent.slice(0, 256)),
      Text({ max: 256 }),
    ),
  ),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ControlServer {
  private readonly nonces = new NonceCache(2 * CONTROL_SIGNATURE_MAX_SKEW_SECONDS * 1000);
  private readonly server: Server;

  constructor(
    private readonly options: {
      secret: string;
      localToken: string;
      gateway: Gateway;
      edge: EdgeClient;
      trunks: TrunkSources;
      log: Logger;
      voicemailDir: string;
    },
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://gateway');
      const route = `${req.method} ${url.pathname}`;
      if (route === `POST ${SIP_DEVICE_MESSAGES_PATH}`) return await this.delivery(req, res, url);
      if (route === 'GET /kamailio/ha1') return await this.ha1(req, res, url);
      if (route === 'POST /kamailio/registrations') return await this.registration(req, res);
      if (route === 'GET /kamailio/trunk') return await this.trunk(req, res, url);
      if (route === 'GET /health') return reply(res, 200, 'ok');
      if ((req.method === 'GET' || req.method === 'DELETE') && url.pathname.startsWith(VOICEMAIL_FILES_PATH)) return await this.voicemailFile(req, res, url);
      reply(res, 404, 'not found');
    } catch (error) {
      if (error instanceof HttpError) return reply(res, error.status, error.message);
      if (error instanceof EdgeUnavailable) {
        this.options.log.warn({ err: error }, 'sip.edge_unreachable');
        return reply(res, 503, 'edge unavailable');
      }
      this.options.log.error({ err: error }, 'sip.control_failed');
      reply(res, 500, 'internal error');
    }
  }

  private async delivery(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(req);
    const check = await verifyControlSignature(this.options.secret, req.headers[CONTROL_SIGNATURE_HEADER] as string | undefined, {
      method: 'POST',
      path: url.pathname + url.search,
      body,
    });
    if (!check.ok) throw new HttpError(401, check.message);
    if (this.nonces.seen(check.nonce)) throw new HttpError(409, 'replayed signature');
    const parsed = v.safeParse(SipDelivery, parseJson(body));
    if (!parsed.success) throw new HttpError(400, 'not a SIP delivery');
    this.options.gateway.deliver(parsed.output);
    reply(res, 204);
  }

  /** A voicemail file: streamed (`GET`) or erased (`DELETE`, 204 also when it was already gone). */
  private async voicemailFile(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method as 'GET' | 'DELETE';
    const check = await verifyControlSignature(this.options.secret, req.headers[CONTROL_SIGNATURE_HEADER] as string | undefined, {
      method,
      path: url.pathname,
      body: '',
    });
    if (!check.ok) throw new HttpError(401, check.message);
    if (this.nonces.seen(check.nonce)) throw new HttpError(409, 'replayed signature');
    const key = v.safeParse(VoicemailFileKey, decodeURIComponent(url.pathname.slice(VOICEMAIL_FILES_PATH.length)));
    if (!key.success) throw new HttpError(404, 'no such message');
    const path = join(this.options.voicemailDir, key.output);
    if (method === 'DELETE') {
      await rm(path, { force: true });
      return reply(res, 204);
    }
    const file = await stat(path).catch(() => null);
    if (!file?.isFile()) throw new HttpError(404, 'no such message');
    res.writeHead(200, { 'content-type': 'audio/ogg', 'content-length': String(file.size) });
    await pipeline(createReadStream(path), res);
  }

  private async ha1(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.checkLocalToken(req);
    const username = v.safeParse(SipUsername, url.searchParams.get('username'));
    // An impossible username is as unknown as any other.
    if (!username.success) return reply(res, 404, 'unknown');
    const credentials = await this.options.edge.credentials(username.output);
    if (!credentials) return reply(res, 404, 'unknown');
    reply(res, 200, credentials.ha1);
  }

  /** 200 with the trunk's id when `source` is a carrier's address; 404 for anyone else. */
  private async trunk(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.checkLocalToken(req);
    const source = v.safeParse(SourceAddress, url.searchParams.get('source'));
    const trunkId = source.success ? await this.options.trunks.trunkOf(source.output) : null;
    reply(res, trunkId ? 200 : 404, trunkId ?? 'not a trunk');
  }

  private async registration(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.checkLocalToken(req);
    const parsed = v.safeParse(KamailioRegistration, parseJson(await readBody(req)));
    if (!parsed.success) throw new HttpError(400, 'not a registration');
    const answer = await this.options.edge.register(parsed.output);
    if (!answer) return reply(res, 404, 'unknown');
    const { expires, contact } = parsed.output;
    this.options.log.info({ tenantId: answer.device.tenantId, userId: answer.device.userId, contact, expires }, 'sip.registration');
    reply(res, 204);
  }

  private checkLocalToken(req: IncomingMessage): void {
    const given = Buffer.from(String(req.headers[LOCAL_TOKEN_HEADER] ?? ''));
    const expected = Buffer.from(this.options.localToken);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HttpError(401, 'bad local token');
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'not JSON');
  }
}

function reply(res: ServerResponse, status: number, text = ''): void {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
}
