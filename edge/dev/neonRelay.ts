/**
 * Local stand-in for Neon's WebSocket proxy: each WebSocket at `/v2?address=host:port` carries
 * the raw Postgres wire protocol to that TCP address. Only addresses in `allow` are reachable,
 * so the relay cannot be used to reach anything else on the machine.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { WebSocketServer, type RawData } from 'ws';

/** Postgres Terminate message: 'X' + int32 length 4. */
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);

export interface RelayOptions {
  host?: string;
  port: number;
  /** `host:port` pairs the relay may connect to. */
  allow: string[];
}

export interface Relay {
  url: string;
  close(): Promise<void>;
}

export async function startNeonRelay({ host = '127.0.0.1', port, allow }: RelayOptions): Promise<Relay> {
  const allowed = new Set(allow);
  const server: Server = createServer((_req, res) => res.writeHead(426).end('WebSocket only'));
  const wss = new WebSocketServer({ server, path: '/v2' });

  wss.on('connection', (ws, request) => {
    const address = new URL(request.url ?? '', 'http://relay').searchParams.get('address') ?? '';
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
  return {
    url: `ws://${host}:${actualPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
      }),
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
