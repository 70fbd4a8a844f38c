/**
 * The local binding of Step Functions' HTTP Task (`arn:aws:states:::http:invoke`): the request it sends,
 * and errors named as AWS names them (States.Http.StatusCode.<n>, States.Http.Socket) so Retry and Catch
 * behave as deployed.
 */
import { describe, expect, it } from 'vitest';
import {
  type HttpInvokeRequest,
  type HttpInvokeResponse,
  HttpSocketError,
  type Json,
  runLocalStateMachine,
} from '../../../local/sfn-binder.js';

const definition = (parameters: Record<string, unknown>) => ({
  StartAt: 'Post',
  States: {
    Post: {
      Type: 'Task',
      Resource: 'arn:aws:states:::http:invoke',
      Parameters: parameters,
      Retry: [
        {
          ErrorEquals: ['States.Http.Socket', 'States.Http.StatusCode.503'],
          IntervalSeconds: 1,
          MaxAttempts: 2,
        },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
      End: true,
    },
    Failed: { Type: 'Pass', End: true },
  },
});

const post = {
  ApiEndpoint: 'https://hooks.example.test/x',
  Method: 'POST',
  Authentication: { ConnectionArn: 'arn:aws:events:us-east-1:123456789012:connection/c/1' },
  Headers: { 'Content-Type': 'application/json' },
  RequestBody: { text: 'hello', blocks: [] },
};

const run = async (
  parameters: Record<string, unknown>,
  answers: (HttpInvokeResponse | Error)[],
): Promise<{ output: Json; requests: HttpInvokeRequest[] }> => {
  const requests: HttpInvokeRequest[] = [];
  const execution = runLocalStateMachine({
    definition: definition(parameters),
    executionInput: {},
    retryMs: 0,
    services: {
      httpInvoke: async (request) => {
        requests.push(request);
        const answer = answers.shift() ?? { status: 200, statusText: 'OK', body: 'ok' };
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  });
  return { output: await execution.result, requests };
};

describe('the http:invoke binding', () => {
  it('POSTs the RequestBody as JSON to ApiEndpoint and returns the response as Step Functions does', async () => {
    const { output, requests } = await run(post, [{ status: 200, statusText: 'OK', body: '{"ok":true}' }]);
    expect(requests).toEqual([
      {
        url: 'https://hooks.example.test/x',
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(post.RequestBody),
      },
    ]);
    expect(output).toEqual({ StatusCode: 200, StatusText: 'OK', ResponseBody: { ok: true } });
  });

  it('names a non-2xx answer States.Http.StatusCode.<n>: retried when the Retry lists it', async () => {
    const { output, requests } = await run(post, [
      { status: 503, statusText: 'Unavailable', body: '' },
      { status: 202, statusText: 'Accepted', body: '' },
    ]);
    expect(requests).toHaveLength(2);
    expect(output).toMatchObject({ StatusCode: 202 });
  });

  it('caught under its status code when not retried', async () => {
    const { output, requests } = await run(post, [
      { status: 404, statusText: 'Not Found', body: 'no_service' },
    ]);
    expect(requests).toHaveLength(1);
    expect(output).toMatchObject({ error: { Error: 'States.Http.StatusCode.404' } });
  });

  it('names an unreachable endpoint States.Http.Socket', async () => {
    const { output, requests } = await run(post, [
      new HttpSocketError('connect ECONNREFUSED'),
      new HttpSocketError('connect ECONNREFUSED'),
      new HttpSocketError('connect ECONNREFUSED'),
    ]);
    expect(requests).toHaveLength(3);
    expect(output).toMatchObject({ error: { Error: 'States.Http.Socket' } });
  });

  it('refuses a Task without a connection, as AWS does, without calling anything', async () => {
    const { output, requests } = await run({ ...post, Authentication: { ConnectionArn: '' } }, []);
    expect(requests).toEqual([]);
    expect(JSON.stringify(output)).toMatch(/ConnectionArn/);
  });
});
