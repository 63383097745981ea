/**
 * UDP port pairs (RTP on `port`, RTCP on `port + 1`) for the ffmpeg processes that record tracks.
 * The kernel picks the port (bind to 0), so several recordings, other nodes and mediasoup never
 * get the same one; a pair handed out stays reserved here until released, and both ports are
 * checked free by binding them before ffmpeg gets them.
 */
import { createSocket, type Socket } from 'node:dgram';

const ATTEMPTS = 50;

export class PortPairs {
  readonly #reserved = new Set<number>();

  constructor(readonly ip: string) {}

  /** The RTP port of a free pair, reserved until `release`. */
  async reserve(): Promise<number> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const first = await bind(this.ip, 0);
      if (!first) continue;
      const port = first.address().port;
      const second = port < 65535 && !this.#reserved.has(port) && !this.#reserved.has(port + 1) ? await bind(this.ip, port + 1) : null;
      first.close();
      if (!second) continue;
      second.close();
      this.#reserved.add(port);
      return port;
    }
    throw new Error(`no free UDP port pair on ${this.ip} after ${ATTEMPTS} attempts`);
  }

  release(port: number): void {
    this.#reserved.delete(port);
  }

  /** Whether some process (ffmpeg, once it listens) holds `port`. */
  async inUse(port: number): Promise<boolean> {
    const socket = await bind(this.ip, port);
    socket?.close();
    return socket === null;
  }
}

function bind(ip: string, port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(null);
    });
    socket.bind(port, ip, () => resolve(socket));
  });
}
