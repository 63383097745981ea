/**
 * What the tests know about the running stack. `npm test` (scripts/test.ts) starts it and passes
 * these through the environment; running a test file alone needs the same variables.
 */
import { join } from 'node:path';
import type { DatabaseTarget } from '../../edge/scripts/migrations.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through \`npm test\` (scripts/test.ts starts the stack)`);
  return value;
}

export const stack = {
  get url(): string {
    return required('CALLSTACK_URL');
  },
  get database(): DatabaseTarget {
    return { databaseUrl: required('DATABASE_URL'), relayUrl: required('NEON_WS_PROXY') };
  },
  get jwtSecret(): string {
    return required('JWT_SECRET');
  },
  /** The settings the shared edge runs with, for tests that start an edge of their own. */
  get edgeVars(): Record<string, string> {
    return JSON.parse(required('CALLSTACK_EDGE_VARS')) as Record<string, string>;
  },
  /** Where the stack's mail sink writes delivered mail. */
  get outboxDir(): string {
    return required('CALLSTACK_OUTBOX_DIR');
  },
  /** The Stripe stand-in the edge charges invoices through (scripts/lib/stripeStandIn.ts). */
  get stripe(): { url: string; secretKey: string; webhookSecret: string } {
    return JSON.parse(required('CALLSTACK_STRIPE')) as { url: string; secretKey: string; webhookSecret: string };
  },
  /** MEDIA_CONTROL_SECRET shared by the edge and the media nodes. */
  get mediaSecret(): string {
    return required('CALLSTACK_MEDIA_SECRET');
  },
  /** The stack's media node (rooms.test.ts kills it last). */
  get mediaNode(): { nodeId: string; controlUrl: string; pid: number } {
    return JSON.parse(required('CALLSTACK_MEDIA_NODE')) as { nodeId: string; controlUrl: string; pid: number };
  },
  /**
   * Where phones register and call (Kamailio), when the SIP edge runs (the `sip` suite); rtpengine's
   * NG port on loopback, and the UDP port it reports DTMF events to (one JSON datagram each).
   */
  get sip(): { host: string; port: number; tlsPort: number; realm: string; rtpengineNgPort: number; dtmfLogPort: number } {
    return JSON.parse(required('CALLSTACK_SIP')) as {
      host: string;
      port: number;
      tlsPort: number;
      realm: string;
      rtpengineNgPort: number;
      dtmfLogPort: number;
    };
  },
  /** The carriers the edge's PSTN_TRUNKS name, in failover order: SIPp plays them on these addresses. */
  get carriers(): { id: string; host: string; port: number }[] {
    return JSON.parse(required('CALLSTACK_CARRIERS')) as { id: string; host: string; port: number }[];
  },
  tmp(...parts: string[]): string {
    return join(required('CALLSTACK_TEST_TMP'), ...parts);
  },
};
