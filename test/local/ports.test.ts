import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.js';
import { startHttpApi } from '../../local/http-api.js';
import { assertPortFree, PortInUseError } from '../../local/ports.js';

const answerNothing = async () => ({ statusCode: 200, headers: {}, body: '' });

describe('a busy port', () => {
  let blocker: Server | undefined;
  afterEach(async () => {
    const open = blocker;
    blocker = undefined;
    if (open) await new Promise((resolve) => open.close(resolve));
  });
  const occupy = async (): Promise<number> => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(port, '127.0.0.1', resolve));
    return port;
  };

  it('is reported up front, naming the port and what wanted it', async () => {
    const port = await occupy();
    const error = await assertPortFree(port, 'HTTP API').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortInUseError);
    expect(error).toMatchObject({ port, purpose: 'HTTP API', message: `port ${port} is in use (HTTP API)` });
  });

  it('is reported as such by the HTTP API too, should it be taken after the check', async () => {
    const port = await occupy();
    const error = await startHttpApi({
      port,
      handlers: { vend: answerNothing, operator: answerNothing },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortInUseError);
  });

  it('a free port passes the check and stays free', async () => {
    const port = await freePort();
    await assertPortFree(port, 'HTTP API');
    const api = await startHttpApi({
      port,
      handlers: { vend: answerNothing, operator: answerNothing },
    });
    expect(api.url).toBe(`http://127.0.0.1:${port}`);
    await api.close();
  });
});
