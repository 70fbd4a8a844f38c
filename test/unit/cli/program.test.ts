/**
 * The command line as a user meets it: usage mistakes exit 2 with the usage and send nothing; the API's
 * refusals and failures exit 1 with one clean line; each verb prints a table or the API's JSON.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { userPathSegment } from '../../../src/cli/program.js';
import { ADMIN, ALICE, AWS_API, LOCAL_API, type TestCli, testCli } from './cli-io.js';

const SESSION_ID = '0123456789abcdef0123456789abcdef';
const session = (overrides: Record<string, unknown> = {}) => ({
  sessionId: SESSION_ID,
  user: 'alice',
  principalArn: ALICE,
  profile: 'dev',
  roleArn: 'arn:aws:iam::123456789012:role/dev',
  sourceIdentity: 'sentinel=alice=direct=abc',
  status: 'active',
  createdAt: '2026-11-28T10:00:00.000Z',
  lastAccessAt: '2026-11-28T10:05:00.000Z',
  expiresAt: '2026-11-28T10:21:00.000Z',
  maxExpiresAt: '2026-11-28T11:00:00.000Z',
  requestCount: 3,
  ...overrides,
});

let cli: TestCli;
afterEach(() => cli?.cleanup());

describe('usage mistakes exit 2 with the usage, and send nothing', () => {
  it.each([
    ['an unknown verb', ['frobnicate']],
    ['no verb', []],
    ['an unknown option', ['list', '--api', LOCAL_API, '--caller', ALICE, '--colour']],
    ['credential-process without --profile', ['credential-process', '--api', LOCAL_API, '--caller', ALICE]],
    [
      'a duration below the STS minimum',
      ['credential-process', '--profile', 'dev', '--duration', '60', '--local', '--caller', ALICE],
    ],
    ['a malformed session id', ['show', 'XYZ', '--api', LOCAL_API, '--caller', ALICE]],
    ['revoke without a reason', ['revoke', SESSION_ID, '--api', LOCAL_API, '--caller', ALICE]],
    [
      'a reason over 256 characters',
      ['revoke', SESSION_ID, '--reason', 'x'.repeat(257), '--local', '--caller', ALICE],
    ],
    ['a user with two slashes', ['revoke-user', 'a/b/c', '--reason', 'r', '--local', '--caller', ALICE]],
    ['a status other than active', ['list', '--status', 'revoked', '--local', '--caller', ALICE]],
    ['a zero limit', ['list', '--limit', '0', '--local', '--caller', ALICE]],
    ['no API URL', ['list']],
    ['a URL that is not one', ['list', '--api', 'not a url']],
    ['--caller with a deployed API', ['list', '--api', AWS_API, '--caller', ALICE]],
    ['--local with a deployed API', ['list', '--api', AWS_API, '--local']],
    ['the local stack without a caller', ['list', '--api', LOCAL_API]],
    ['a caller that is not an ARN', ['list', '--local', '--caller', 'alice']],
    ['plain http to a deployed API', ['list', '--api', 'http://api.example.com']],
    ['a region the URL does not tell', ['list', '--api', 'https://api.example.com']],
    ['a --since it cannot read', ['tail', '--local', '--since', 'yesterday', '--no-follow']],
  ])('%s', async (_what, args) => {
    cli = testCli();

    const result = await cli.run(...args);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Usage: sentinel-sessions/);
    expect(cli.requests).toEqual([]);
  });

  it('--help shows an example for each verb and exits 0', async () => {
    cli = testCli();
    for (const verb of ['credential-process', 'list', 'show', 'revoke', 'revoke-user', 'tail']) {
      const result = await cli.run(verb, '--help');
      expect(result.code, verb).toBe(0);
      expect(result.stdout, verb).toMatch(/Example:\n {2}\S/);
    }
    const top = await cli.run('--help');
    expect(top.stdout).toMatch(/--profile always names a sentinel \(vend\) profile, never an AWS profile/);
  });

  it('never sends the local caller header to a deployed API, even when the environment sets it', async () => {
    cli = testCli();
    cli.env.SENTINEL_LOCAL_CALLER_ARN = ALICE;
    cli.routes.set('GET /v1/sessions', () => ({ status: 200, body: { sessions: [] } }));

    const result = await cli.run('list', '--api', AWS_API);

    expect(result.code).toBe(0);
    expect(cli.requests[0]?.headers).not.toHaveProperty('x-sentinel-local-caller-arn');
    expect(cli.requests[0]?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
    );
  });
});

describe('failures exit 1 with one clean line', () => {
  it('connection refused: "cannot reach API at URL"', async () => {
    cli = testCli({
      fetch: async () => {
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      },
    });

    const result = await cli.run('list', '--api', LOCAL_API, '--caller', ALICE);

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `sentinel-sessions: cannot reach API at ${LOCAL_API} (ECONNREFUSED)\n`,
    });
  });

  it('a request that times out', async () => {
    cli = testCli({
      fetch: async () => {
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      },
    });

    const result = await cli.run('list', '--api', LOCAL_API, '--caller', ALICE);

    expect([result.code, result.stderr]).toEqual([
      1,
      `sentinel-sessions: the API at ${LOCAL_API} did not answer within 15 s\n`,
    ]);
  });

  it.each([
    [
      'a body that is not JSON',
      new Response('<html>bad gateway</html>', { status: 502 }),
      /answered 502 with a body that is not JSON/,
    ],
    [
      'a 5xx',
      Response.json({ code: 'SessionStoreUnavailable', message: 'try later' }, { status: 503 }),
      /the API failed \(503 SessionStoreUnavailable\): try later/,
    ],
    [
      'a refusal',
      Response.json({ code: 'AdminRequired', message: 'admins only' }, { status: 403 }),
      /AdminRequired: admins only/,
    ],
    [
      "API Gateway's own refusal (no code)",
      Response.json({ message: 'Forbidden' }, { status: 403 }),
      /HTTP 403: Forbidden/,
    ],
  ])('%s', async (_what, response, message) => {
    cli = testCli();
    cli.routes.set('GET /v1/sessions', () => response);

    const result = await cli.run('list', '--all', '--api', LOCAL_API, '--caller', ALICE);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('credentials that cannot be loaded name the AWS profile', async () => {
    cli = testCli({
      credentials: () => async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });

    const result = await cli.run('list', '--api', AWS_API, '--aws-profile', 'corp');

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'sentinel-sessions: cannot load the AWS credentials that sign requests (AWS profile corp): Could not load credentials from any providers\n',
    );
    expect(cli.requests).toEqual([]);
  });
});

describe('list', () => {
  it('prints a table, and follows every page with --all', async () => {
    cli = testCli();
    cli.routes.set('GET /v1/sessions', ({ url }) =>
      url.searchParams.get('cursor') === 'page2'
        ? {
            status: 200,
            body: { sessions: [session({ sessionId: 'f'.repeat(32), user: 'bob', requestCount: 1 })] },
          }
        : { status: 200, body: { sessions: [session()], nextCursor: 'page2' } },
    );

    const result = await cli.run(
      'list',
      '--all',
      '--status',
      'active',
      '--user',
      'alice',
      '--api',
      LOCAL_API,
      '--caller',
      ADMIN,
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'SESSION                           USER   PROFILE  STATUS  CREATED               EXPIRES               REQUESTS',
        `${SESSION_ID}  alice  dev      active  2026-11-28T10:00:00Z  2026-11-28T10:21:00Z  3`,
        `${'f'.repeat(32)}  bob    dev      active  2026-11-28T10:00:00Z  2026-11-28T10:21:00Z  1`,
        '',
      ].join('\n'),
    );
    expect(cli.requests.map((r) => r.url.search)).toEqual([
      '?user=alice&status=active',
      '?cursor=page2&user=alice&status=active',
    ]);
    expect(cli.requests[0]?.headers['x-sentinel-local-caller-arn']).toBe(ADMIN);
  });

  it('without --all says how to get the next page; --json prints the API JSON', async () => {
    cli = testCli();
    const page = { sessions: [session()], nextCursor: 'opaque' };
    cli.routes.set('GET /v1/sessions', () => ({ status: 200, body: page }));

    const table = await cli.run('list', '--limit', '1', '--local', '--caller', ALICE);
    const json = await cli.run('list', '--limit', '1', '--json', '--local', '--caller', ALICE);

    expect(table.stdout).toMatch(/\(more: --cursor opaque, or --all\)\n$/);
    expect(JSON.parse(json.stdout)).toEqual(page);
    expect(cli.requests[0]?.url.href).toBe('http://127.0.0.1:3000/v1/sessions?limit=1');
  });
});

describe('show, revoke, revoke-user', () => {
  it('show prints the session and its workflows', async () => {
    cli = testCli();
    cli.routes.set(`GET /v1/sessions/${SESSION_ID}`, () => ({
      status: 200,
      body: {
        session: session(),
        workflows: {
          lifecycle: {
            executionArn: 'arn:aws:states:eu-west-1:1:execution:L:x',
            consoleUrl: 'https://console/x',
          },
        },
      },
    }));

    const result = await cli.run('show', SESSION_ID, '--api', LOCAL_API, '--caller', ALICE);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`sessionId:      ${SESSION_ID}\nstatus:         active\n`);
    expect(result.stdout).toContain(
      'workflow lifecycle:\n  execution: arn:aws:states:eu-west-1:1:execution:L:x\n  console:   https://console/x\n',
    );
    expect(result.stdout).not.toContain('revokedAt');
  });

  it('revoke sends the reason; a session already ended exits 1 naming its status', async () => {
    cli = testCli();
    cli.routes.set(`POST /v1/sessions/${SESSION_ID}/revoke`, ({ body }) =>
      (body as { reason: string }).reason === 'again'
        ? { status: 409, body: { code: 'SessionAlreadyTerminal', message: 'ended', status: 'revoked' } }
        : {
            status: 200,
            body: { session: session({ status: 'revoked', revokedReason: 'laptop lost', revokedBy: ADMIN }) },
          },
    );

    const first = await cli.run(
      'revoke',
      SESSION_ID,
      '--reason',
      'laptop lost',
      '--local',
      '--caller',
      ADMIN,
    );
    const second = await cli.run('revoke', SESSION_ID, '--reason', 'again', '--local', '--caller', ADMIN);

    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^revoked\n[\s\S]*revokedReason: +laptop lost/);
    expect(cli.requests[0]?.body).toEqual({ reason: 'laptop lost' });
    expect([second.code, second.stdout, second.stderr]).toEqual([
      1,
      '',
      `sentinel-sessions: session ${SESSION_ID} has already ended (revoked)\n`,
    ]);
  });

  it('revoke-user escapes a role/session user twice, and exits 1 until every session was handled', async () => {
    cli = testCli();
    let complete = false;
    cli.routes.set('POST /v1/users/deploy%252Falice/revoke', () => ({
      status: 200,
      body: {
        user: 'deploy/alice',
        revoked: 2,
        alreadyTerminal: 1,
        failed: 0,
        failedSessionIds: [],
        complete,
      },
    }));

    const partial = await cli.run(
      'revoke-user',
      'deploy/alice',
      '--reason',
      'left',
      '--local',
      '--caller',
      ADMIN,
    );
    complete = true;
    const done = await cli.run(
      'revoke-user',
      'deploy/alice',
      '--reason',
      'left',
      '--local',
      '--caller',
      ADMIN,
    );

    expect(partial.code).toBe(1);
    expect(partial.stdout).toBe(
      'user deploy/alice: revoked 2, already ended 1, failed 0\n' +
        'the run stopped on its time budget before every session was seen\n' +
        'run the same revoke-user again to finish\n',
    );
    expect(partial.stderr).toMatch(/not finished: run it again/);
    expect([done.code, done.stdout]).toEqual([
      0,
      'user deploy/alice: revoked 2, already ended 1, failed 0\n',
    ]);
    expect(userPathSegment('alice@example.com')).toBe('alice%40example.com');
  });

  it('revoke-user with failed sessions lists them and exits 1', async () => {
    cli = testCli();
    cli.routes.set('POST /v1/users/alice/revoke', () => ({
      status: 200,
      body: {
        user: 'alice',
        revoked: 1,
        alreadyTerminal: 0,
        failed: 1,
        failedSessionIds: [SESSION_ID],
        complete: true,
      },
    }));

    const result = await cli.run(
      'revoke-user',
      'alice',
      '--reason',
      'left',
      '--json',
      '--local',
      '--caller',
      ADMIN,
    );

    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).failedSessionIds).toEqual([SESSION_ID]);
  });
});
