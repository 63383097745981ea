/**
 * Local stand-in for Neon's two query paths:
 * - WebSocket: each WebSocket at `/v2?address=host:port` carries the raw Postgres wire protocol
 *   to that TCP address (what `Client`/`Pool` use for interactive transactions);
 * - HTTP: `POST /sql` runs one statement, or a batch as one transaction, on a pooled connection
 *   and answers in Neon's JSON format (what `neon()` uses), so no Postgres handshake per request.
 * Only addresses in `allow` are reachable, so the relay cannot be used to reach anything else on
 * the machine. It counts what it carries, so benchmarks can print round trips per operation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { Client, Pool, type PoolClient } from '@neondatabase/serverless';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

/** Marks the relay's own pooled connections (the HTTP path), which it does not count. */
const POOL_MARK = 'pool';

/** Postgres Terminate message: 'X' + int32 length 4. */
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);

export interface RelayOptions {
  host?: string;
  port: number;
  /** `host:port` pairs the relay may connect to. */
  allow: string[];
}

export interface RelayCounters {
  /** `POST /sql` requests: one round trip each, whether one statement or a batch. */
  httpRequests: number;
  /** Statements those requests carried. */
  httpStatements: number;
  /** WebSocket connections opened (each a Postgres start-up and authentication). */
  wsConnections: number;
  /** WebSocket messages from clients: with pipelining off, about one round trip each. */
  wsMessages: number;
}

export interface Relay {
  url: string;
  counters(): RelayCounters;
  close(): Promise<void>;
}

export async function startNeonRelay({ host = '127.0.0.1', port, allow }: RelayOptions): Promise<Relay> {
  const allowed = new Set(allow);
  const counters: RelayCounters = { httpRequests: 0, httpStatements: 0, wsConnections: 0, wsMessages: 0 };
  const pools = new Map<string, Pool>();
  let relayUrl = '';
  const poolFor = (connectionString: string): Pool => {
    let pool = pools.get(connectionString);
    if (!pool) {
      pool = new Pool({ connectionString, max: 10 });
      // Neon's Pool sets its own `Client` after pg-pool reads the option; the property is what it uses.
      pool.Client = relayClient(() => relayUrl);
      pool.on('error', () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  };
  const server: Server = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/sql') {
      counters.httpRequests++;
      answerSql(request, response, allowed, poolFor, counters).catch(() => response.destroy());
    } else response.writeHead(404, { 'content-type': 'text/plain' }).end('POST /sql or a WebSocket at /v2');
  });
  const wss = new WebSocketServer({ server, path: '/v2' });

  wss.on('connection', (ws, request) => {
    const query = new URL(request.url ?? '', 'http://relay').searchParams;
    // The HTTP path's own pooled connections are not clients' round trips.
    const counted = !query.has(POOL_MARK);
    if (counted) counters.wsConnections++;
    const address = query.get('address') ?? '';
    const [targetHost, targetPort] = splitAddress(address);
    if (!allowed.has(address) || !targetHost || !targetPort) {
      ws.close(1008, 'address not allowed');
      return;
    }
    const socket = connect({ host: targetHost, port: targetPort, noDelay: true });
    const pending: Buffer[] = [];
    socket.on('connect', () => {
      for (const chunk of pending.splice(0)) socket.write(chunk);
    });
    socket.on('data', (data) => ws.readyState === ws.OPEN && ws.send(data));
    socket.on('close', () => ws.close());
    socket.on('error', () => ws.close(1011, 'database connection failed'));
    ws.on('message', (data: RawData) => {
      if (counted) counters.wsMessages++;
      const chunk = toBuffer(data);
      if (socket.connecting) pending.push(chunk);
      else socket.write(chunk);
      // PGlite never closes on Terminate; end the socket ourselves so clients' end() returns.
      if (chunk.length >= TERMINATE.length && chunk.subarray(-TERMINATE.length).equals(TERMINATE)) socket.end();
    });
    ws.on('close', () => socket.destroy());
    ws.on('error', () => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actualPort = (server.address() as { port: number }).port;
  relayUrl = `ws://${host}:${actualPort}`;
  return {
    url: relayUrl,
    counters: () => ({ ...counters }),
    close: async () => {
      await Promise.all([...pools.values()].map((pool) => pool.end().catch(() => {})));
      await new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

interface SqlStatement {
  query: string;
  params?: unknown[];
}

/** Neon's field list: what the driver needs to parse each text value. */
type Fields = { name: string; dataTypeID: number }[];

/** Values stay as Postgres sent them (text): the driver parses them, as it does Neon's answers. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

/**
 * Neon's HTTP query API: the target in `Neon-Connection-String`, `{query, params}` or
 * `{queries: [...]}` (one transaction, options in `Neon-Batch-*` headers); rows as arrays of text,
 * Postgres errors as 400 with their fields, an unreachable database as 503.
 */
async function answerSql(
  request: IncomingMessage,
  response: ServerResponse,
  allowed: Set<string>,
  poolFor: (connectionString: string) => Pool,
  counters: RelayCounters,
): Promise<void> {
  const send = (status: number, body: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const connectionString = header(request, 'neon-connection-string');
  let target: URL;
  try {
    target = new URL(connectionString);
  } catch {
    return send(400, { message: 'Neon-Connection-String is missing or not a URL' });
  }
  if (!allowed.has(`${target.hostname}:${target.port || 5432}`)) return send(400, { message: 'address not allowed' });
  let body: { query?: string; params?: unknown[]; queries?: SqlStatement[] };
  try {
    body = JSON.parse(await readBody(request)) as typeof body;
  } catch {
    return send(400, { message: 'the body is not JSON' });
  }
  let client: PoolClient;
  try {
    client = await poolFor(connectionString).connect();
  } catch (error) {
    response.writeHead(503, { 'content-type': 'text/plain' }).end(`database unreachable: ${(error as Error).message}`);
    return;
  }
  let broken = false;
  const run = async ({ query, params = [] }: SqlStatement) => {
    counters.httpStatements++;
    const result = await client.query({ text: query, values: params, rowMode: 'array', types: RAW_TEXT });
    const fields: Fields = result.fields.map(({ name, dataTypeID }) => ({ name, dataTypeID }));
    return { command: result.command, rowCount: result.rowCount, rows: result.rows, fields };
  };
  try {
    if (Array.isArray(body.queries)) {
      await client.query(beginStatement(request));
      try {
        const results = [];
        for (const statement of body.queries) results.push(await run(statement));
        await client.query('commit');
        send(200, { results });
      } catch (error) {
        await client.query('rollback').catch(() => (broken = true));
        throw error;
      }
    } else if (typeof body.query === 'string') send(200, await run({ query: body.query, params: body.params ?? [] }));
    else send(400, { message: 'expected {query, params} or {queries}' });
  } catch (error) {
    const fields = error as Record<string, unknown>;
    if (typeof fields.code !== 'string') {
      broken = true;
      response.writeHead(503, { 'content-type': 'text/plain' }).end(`database connection failed: ${(error as Error).message}`);
    } else send(400, Object.fromEntries(Object.entries({ message: (error as Error).message, ...fields }).filter(([, value]) => value !== undefined)));
  } finally {
    client.release(broken);
  }
}

function beginStatement(request: IncomingMessage): string {
  const isolation = header(request, 'neon-batch-isolation-level');
  const levels: Record<string, string> = {
    ReadUncommitted: 'read uncommitted',
    ReadCommitted: 'read committed',
    RepeatableRead: 'repeatable read',
    Serializable: 'serializable',
  };
  const modes = [
    levels[isolation] ? `isolation level ${levels[isolation]}` : '',
    header(request, 'neon-batch-read-only') === 'true' ? 'read only' : '',
    header(request, 'neon-batch-deferrable') === 'true' ? 'deferrable' : '',
  ].filter(Boolean);
  return `begin ${modes.join(' ')}`.trim();
}

function header(request: IncomingMessage, name: string): string {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * The pool's connections go through this relay's own WebSocket path, configured per client so
 * that other relays or Neon settings in the same process are left alone.
 */
function relayClient(relayUrl: () => string): typeof Client {
  return class RelayClient extends Client {
    constructor(config: ConstructorParameters<typeof Client>[0]) {
      super(config);
      const socket = this.neonConfig;
      socket.webSocketConstructor = WebSocket;
      socket.wsProxy = (host, port) => `${relayUrl().replace(/^ws:\/\//, '')}/v2?address=${host}:${port}&${POOL_MARK}`;
      socket.useSecureWebSocket = false;
      socket.pipelineTLS = false;
      socket.pipelineConnect = false;
    }
  };
}

function splitAddress(address: string): [string | undefined, number | undefined] {
  const index = address.lastIndexOf(':');
  if (index <= 0) return [undefined, undefined];
  const port = Number(address.slice(index + 1));
  return [address.slice(0, index), Number.isInteger(port) && port > 0 ? port : undefined];
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
