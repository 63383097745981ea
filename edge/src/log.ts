/**
 * Structured JSON logs, one line per event, with the ids that tie events together
 * (tenantId, userId, callId, deviceId). Workers Logs and `wrangler tail` index these fields.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

type Level = 'debug' | 'info' | 'warn' | 'error';

function emit(level: Level, event: string, fields: LogFields, error?: unknown): void {
  const line: Record<string, unknown> = { level, event, ...fields };
  if (error !== undefined) {
    line.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  const text = JSON.stringify(line);
  if (level === 'error') console.error(text);
  else if (level === 'warn') console.warn(text);
  else console.log(text);
}

export const log = {
  debug: (event: string, fields: LogFields = {}) => emit('debug', event, fields),
  info: (event: string, fields: LogFields = {}) => emit('info', event, fields),
  warn: (event: string, fields: LogFields = {}, error?: unknown) => emit('warn', event, fields, error),
  error: (event: string, fields: LogFields = {}, error?: unknown) => emit('error', event, fields, error),
};
