/**
 * The local stand-in for the mail API (`npm start`, `npm test`): it answers like Resend's
 * `POST /emails` and checks what the real one checks (bearer key, body shape, Idempotency-Key),
 * then writes each message to `<dir>/<idempotency key>.json` and each attachment beside it as
 * `<key>-<filename>`. The same key twice is one message.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import * as v from 'valibot';
import { freePort } from './processes.ts';

const Message = v.object({
  from: v.pipe(v.string(), v.minLength(3)),
  to: v.pipe(v.array(v.pipe(v.string(), v.email())), v.minLength(1)),
  subject: v.string(),
  text: v.string(),
  attachments: v.optional(
    v.array(
      v.object({
        filename: v.pipe(v.string(), v.regex(/^[\w.-]{1,100}$/)),
        content: v.pipe(v.string(), v.base64()),
        content_type: v.optional(v.string()),
      }),
    ),
  ),
});

export interface MailSink {
  url: string;
  apiKey: string;
  dir: string;
  close(): Promise<void>;
}

export async function startMailSink(dir: string, apiKey: string): Promise<MailSink> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const server = createServer((request, response) => {
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (raw += chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/emails') return answer(404, { message: 'not found' });
      if (request.headers.authorization !== `Bearer ${apiKey}`) return answer(401, { message: 'invalid API key' });
      const key = request.headers['idempotency-key'];
      if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(key)) return answer(400, { message: 'Idempotency-Key header required' });
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        return answer(400, { message: 'body is not JSON' });
      }
      const parsed = v.safeParse(Message, body);
      if (!parsed.success) return answer(422, { message: v.summarize(parsed.issues) });
      const { attachments = [], ...message } = parsed.output;
      for (const file of attachments) writeFileSync(join(dir, `${key}-${file.filename}`), Buffer.from(file.content, 'base64'));
      const files = attachments.map((file) => ({
        filename: file.filename,
        contentType: file.content_type ?? null,
        path: join(dir, `${key}-${file.filename}`),
      }));
      writeFileSync(join(dir, `${key}.json`), JSON.stringify({ ...message, attachments: files, receivedAt: new Date().toISOString() }, null, 2));
      answer(200, { id: key });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/emails`,
    apiKey,
    dir,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
