/**
 * The local stand-in for Slack's incoming webhook and Teams' Workflows webhook: a small HTTP server on
 * 127.0.0.1 that records every POST (path and JSON body) and answers as the real ones do (Slack "ok",
 * Teams 202). `failWith(path, status)` makes one path answer an error, to show a failing channel.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body; a body that is not JSON is recorded as its text. */
  readonly body: unknown;
  readonly receivedAt: Date;
}

/** Bodies over this are refused: a notification is a few kilobytes (Slack caps messages well below). */
const MAX_BODY_BYTES = 256 * 1024;

const readBody = async (request: IncomingMessage): Promise<string | undefined> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

export class LocalWebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  readonly #failures = new Map<string, number>();
  #server: Server | undefined;
  #url: string | undefined;

  /** Starts listening on an ephemeral port of 127.0.0.1; resolves with the base URL. */
  async start(): Promise<string> {
    const server = createServer((request, response) => {
      void (async () => {
        const path = request.url ?? '/';
        if (request.method !== 'POST') {
          response.writeHead(405).end('only POST');
          return;
        }
        const text = await readBody(request);
        if (text === undefined) {
          response.writeHead(413).end('too large');
          return;
        }
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Recorded as text: the tests then see that the sender did not send JSON.
        }
        const headers = Object.fromEntries(
          Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]),
        );
        this.received.push({ path, headers, body, receivedAt: new Date() });
        const failure = this.#failures.get(path);
        if (failure !== undefined) {
          response.writeHead(failure).end('failing on purpose');
          return;
        }
        // Slack answers 200 "ok"; a Teams Workflows trigger answers 202 Accepted.
        if (path.startsWith('/teams')) response.writeHead(202).end();
        else response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      })();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    this.#url = `http://127.0.0.1:${port}`;
    return this.#url;
  }

  /** The URL of one webhook on this receiver, e.g. `urlOf('/slack')`. */
  urlOf(path: string): string {
    if (this.#url === undefined) throw new Error('the webhook receiver is not started');
    return `${this.#url}${path}`;
  }

  /** What was posted to one path, oldest first. */
  bodiesAt(path: string): unknown[] {
    return this.received.filter((r) => r.path === path).map((r) => r.body);
  }

  /** From now on `path` answers `status` (e.g. 500, 404), until `recover(path)`. */
  failWith(path: string, status: number): void {
    this.#failures.set(path, status);
  }

  recover(path: string): void {
    this.#failures.delete(path);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
