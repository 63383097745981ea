// rtpengine-client 0.4.12 ships no types: the part CallStack uses (the NG protocol over UDP).
declare module 'rtpengine-client' {
  import type { EventEmitter } from 'node:events';

  /** An NG reply: `result` is 'ok', 'pong', 'error' (with `error-reason`) or 'load limit'. */
  export interface NgResponse {
    result: string;
    'error-reason'?: string;
    warning?: string;
    sdp?: string;
    [key: string]: unknown;
  }

  /** NG command options (bencoded as given): `call-id`, `from-tag`, `sdp`, `flags`, `replace`, `ICE`, ... */
  export type NgOptions = Record<string, unknown>;

  type Command = (port: number, host: string, options?: NgOptions) => Promise<NgResponse>;

  export class Client extends EventEmitter {
    /** Binds a UDP socket (any port); `timeout` rejects a command unanswered after that many ms. */
    constructor(options?: { localPort?: number; localAddress?: string; timeout?: number; rejectOnError?: boolean });
    ping: Command;
    offer: Command;
    answer: Command;
    delete: Command;
    query: Command;
    list: Command;
    statistics: Command;
    playDTMF: Command;
    blockMedia: Command;
    unblockMedia: Command;
    playMedia: Command;
    close(): void;
  }
}
