/**
 * WebSocket close codes the edge uses on the signaling and presence sockets (4000-4999 is the
 * range the WebSocket standard leaves to applications). Clients act on them: 4001 and 4003 mean
 * "do not reconnect".
 */
export const CloseCode = {
  /** The client found the connection dead (no pong) and dropped it; it reconnects. */
  deadConnection: 4000,
  /** A newer connection of the same device took over. */
  replaced: 4001,
  /** The account was signed out everywhere, deactivated or erased. */
  disconnected: 4003,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
