import { neonConfig } from '@neondatabase/serverless';

/**
 * Points the Neon driver at a local relay (edge/dev/neonRelay.ts) instead of Neon: its plain-ws
 * path for connections and its `/sql` path for HTTP queries. Only called when a relay is
 * configured, so production keeps Neon's defaults.
 */
export function useLocalRelay(relayUrl: string): void {
  const base = relayUrl.replace(/\/+$/, '');
  neonConfig.wsProxy = (host, port) => `${base.replace(/^wss?:\/\//, '')}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = base.startsWith('wss://');
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  neonConfig.fetchEndpoint = `${base.replace(/^ws/, 'http')}/sql`;
}
