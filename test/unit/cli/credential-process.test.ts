/**
 * credential-process against a scripted vend API: the exact output the AWS CLI reads, the session cache
 * (modes, contents, reuse), each refusal's outcome, the revoked marker, the lock and the recursion guard.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RECURSION_ENV } from '../../../src/cli/credential-process.js';
import { ALICE, AWS_API, LOCAL_API, type TestCli, testCli } from './cli-io.js';

const LOCAL = ['--api', LOCAL_API, '--caller', ALICE];
const SECRET = 'SECRETwJalrXUtnFEMIK7MDENG';

interface FakeSession {
  status: 'active' | 'revoked' | 'expired';
  requestCount: number;
  refusal?: { status: number; code: string };
}

/** Vend routes over an in-memory table; every answer carries fresh credentials. */
const fakeVendApi = (cli: TestCli) => {
  const sessions = new Map<string, FakeSession>();
  let next = 0;
  const vended = (sessionId: string) => ({
    sessionId,
    expiresAt: new Date(Date.now() + 900_000).toISOString(),
    credentials: {
      AccessKeyId: `ASIA${sessionId.slice(0, 8)}`,
      SecretAccessKey: SECRET,
      Token: 'TOKEN',
      Expiration: new Date(Date.now() + 870_000).toISOString(),
    },
  });
  cli.routes.set('POST /v1/sessions', () => {
    const sessionId = (++next).toString(16).padStart(32, '0');
    sessions.set(sessionId, { status: 'active', requestCount: 1 });
    return { status: 201, body: vended(sessionId) };
  });
  for (let i = 1; i <= 9; i++) {
    const sessionId = i.toString(16).padStart(32, '0');
    cli.routes.set(`POST /v1/sessions/${sessionId}/credentials`, ({ body }) => {
      const session = sessions.get(sessionId);
      if (!session) return { status: 404, body: { code: 'SessionNotFound', message: 'no such session' } };
      if (session.refusal)
        return { status: session.refusal.status, body: { code: session.refusal.code, message: 'refused' } };
      if (session.status === 'revoked') {
        return {
          status: 403,
          body: { code: 'SessionRevoked', message: 'the session was revoked; start a new one' },
        };
      }
      expect(body).toEqual({ profile: 'dev' });
      session.requestCount++;
      return { status: 200, body: vended(sessionId) };
    });
    cli.routes.set(`GET /v1/sessions/${sessionId}`, () => ({
      status: 200,
      body: {
        session: { sessionId, status: 'revoked', revokedReason: 'laptop lost', revokedBy: 'secops' },
        workflows: {},
      },
    }));
  }
  return sessions;
};

const cacheDir = (cli: TestCli) => join(cli.home, 'cache', 'sentinel-sessions');
const cacheFiles = (cli: TestCli) => readdirSync(cacheDir(cli)).filter((f) => f.endsWith('.json'));
const cached = (cli: TestCli) => {
  const [file] = cacheFiles(cli);
  return JSON.parse(readFileSync(join(cacheDir(cli), file ?? 'none'), 'utf8')) as {
    session: { sessionId: string; revoked?: { reason: string } };
  };
};
const mode = (path: string) => statSync(path).mode & 0o777;

let cli: TestCli;
afterEach(() => cli?.cleanup());

describe('credential-process output and cache', () => {
  it('prints exactly the credential_process JSON, and caches the session id only (0600 in a 0700 directory)', async () => {
    cli = testCli();
    fakeVendApi(cli);

    const result = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const output = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(output)).toEqual([
      'Version',
      'AccessKeyId',
      'SecretAccessKey',
      'SessionToken',
      'Expiration',
    ]);
    expect(output).toMatchObject({ Version: 1, SecretAccessKey: SECRET, SessionToken: 'TOKEN' });
    expect(result.stdout.endsWith('}\n')).toBe(true);
    expect(cli.requests[0]?.body).toEqual({ profile: 'dev' });
    const [file] = cacheFiles(cli);
    const path = join(cacheDir(cli), file ?? '');
    expect(mode(cacheDir(cli))).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('TOKEN');
    expect(text).not.toContain('ASIA');
    expect(cached(cli).session.sessionId).toBe('1'.padStart(32, '0'));
    // The lock is gone once the run is over.
    expect(readdirSync(cacheDir(cli)).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });

  it('a second run refreshes the cached session instead of starting another', async () => {
    cli = testCli();
    const sessions = fakeVendApi(cli);

    await cli.run('credential-process', '--profile', 'dev', '--duration', '1800', ...LOCAL);
    const second = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);

    expect(second.code).toBe(0);
    expect(cli.requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      'POST /v1/sessions',
      `POST /v1/sessions/${'1'.padStart(32, '0')}/credentials`,
    ]);
    expect(cli.requests[0]?.body).toEqual({ profile: 'dev', durationSeconds: 1800 });
    expect(sessions.get('1'.padStart(32, '0'))?.requestCount).toBe(2);
  });

  it('keeps one cache per API, profile and signer', async () => {
    cli = testCli();
    fakeVendApi(cli);

    await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    await cli.run(
      'credential-process',
      '--profile',
      'dev',
      '--api',
      LOCAL_API,
      '--caller',
      'arn:aws:iam::123456789012:user/bob',
    );

    expect(cacheFiles(cli)).toHaveLength(2);
  });

  it('tightens a cache directory and file found wider than the user alone', async () => {
    cli = testCli();
    fakeVendApi(cli);
    await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    const [file] = cacheFiles(cli);
    chmodSync(cacheDir(cli), 0o755);
    chmodSync(join(cacheDir(cli), file ?? ''), 0o644);

    const result = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);

    expect(result.code).toBe(0);
    expect(mode(cacheDir(cli))).toBe(0o700);
    expect(mode(join(cacheDir(cli), file ?? ''))).toBe(0o600);
  });

  it('an unreadable cache file is replaced by a new session', async () => {
    cli = testCli();
    fakeVendApi(cli);
    await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    const [file] = cacheFiles(cli);
    writeFileSync(join(cacheDir(cli), file ?? ''), '{"schema":1,"session":{"sessionId":"../../etc"}}');

    const result = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);

    expect(result.code).toBe(0);
    expect(cached(cli).session.sessionId).toBe('2'.padStart(32, '0'));
  });
});

describe('credential-process refusals: no stdout, one stderr line', () => {
  const expectRefused = (result: { code: number; stdout: string; stderr: string }, message: RegExp) => {
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toContain(SECRET);
  };

  it('a session at its maximum lifetime is replaced by a new one', async () => {
    cli = testCli();
    const sessions = fakeVendApi(cli);
    await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    const first = cached(cli).session.sessionId;
    (sessions.get(first) as FakeSession).refusal = { status: 410, code: 'SessionAtMaxLifetime' };

    const result = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).AccessKeyId).toBe('ASIA00000000');
    expect(cached(cli).session.sessionId).toBe('2'.padStart(32, '0'));
  });

  it.each([
    [410, 'SessionExpired'],
    [404, 'SessionNotFound'],
  ])('%i %s: forgotten, exit 1, and the next run starts anew', async (status, code) => {
    cli = testCli();
    const sessions = fakeVendApi(cli);
    await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    (sessions.get(cached(cli).session.sessionId) as FakeSession).refusal = { status, code };

    const refused = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    const next = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);

    expectRefused(refused, new RegExp(`ended \\(${code}\\): the next run starts a new session`));
    expect(next.code).toBe(0);
    expect(cached(cli).session.sessionId).toBe('2'.padStart(32, '0'));
  });

  it('a revoked session: exit 1 with the reason, and later runs refuse too until --new-session', async () => {
    cli = testCli();
    const sessions = fakeVendApi(cli);
    await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    const first = cached(cli).session.sessionId;
    (sessions.get(first) as FakeSession).status = 'revoked';

    const refused = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    const again = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    const requestsBefore = cli.requests.length;
    const fresh = await cli.run('credential-process', '--profile', 'dev', '--new-session', ...LOCAL);

    expectRefused(
      refused,
      new RegExp(`session ${first} was revoked: laptop lost \\(by secops\\); pass --new-session`),
    );
    expectRefused(again, /was revoked: laptop lost/);
    expect(fresh.code).toBe(0);
    expect(cli.requests[requestsBefore]?.url.pathname).toBe('/v1/sessions');
    expect(cached(cli).session).not.toHaveProperty('revoked');
    expect(cached(cli).session.sessionId).not.toBe(first);
  });

  it('AccessDenied: the server message, and the cached session is kept', async () => {
    cli = testCli();
    const sessions = fakeVendApi(cli);
    await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    const first = cached(cli).session.sessionId;
    (sessions.get(first) as FakeSession).refusal = { status: 403, code: 'AccessDenied' };

    const result = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);

    expectRefused(result, /^sentinel-sessions: AccessDenied: refused\n$/);
    expect(cached(cli).session.sessionId).toBe(first);
  });

  it('a create refused by the policy writes no cache', async () => {
    cli = testCli();
    cli.routes.set('POST /v1/sessions', () => ({
      status: 403,
      body: { code: 'ProfileNotAllowed', message: 'no prod for you' },
    }));

    const result = await cli.run('credential-process', '--profile', 'prod', ...LOCAL);

    expectRefused(result, /ProfileNotAllowed: no prod for you/);
    expect(cacheFiles(cli)).toEqual([]);
  });

  it.each([
    [
      'no secret',
      {
        sessionId: 'a'.repeat(32),
        expiresAt: 'x',
        credentials: { AccessKeyId: 'A', Token: 'T', Expiration: '2099-01-01T00:00:00Z' },
      },
    ],
    [
      'expired credentials',
      {
        sessionId: 'a'.repeat(32),
        expiresAt: 'x',
        credentials: {
          AccessKeyId: 'A',
          SecretAccessKey: SECRET,
          Token: 'T',
          Expiration: '2000-01-01T00:00:00Z',
        },
      },
    ],
  ])('an answer with %s is refused, never printed', async (_what, body) => {
    cli = testCli();
    cli.routes.set('POST /v1/sessions', () => ({ status: 201, body }));

    const result = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);

    expectRefused(
      result,
      /the API answered (without usable credentials|with credentials that have already expired)/,
    );
    expect(cacheFiles(cli)).toEqual([]);
  });
});

describe('credential-process concurrency and recursion', () => {
  it('runs started together create one session between them', async () => {
    cli = testCli();
    const sessions = fakeVendApi(cli);

    const results = await Promise.all(
      [1, 2, 3, 4].map(() => cli.run('credential-process', '--profile', 'dev', ...LOCAL)),
    );

    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(sessions.size).toBe(1);
    expect(cli.requests.filter((r) => r.url.pathname === '/v1/sessions')).toHaveLength(1);
  });

  it('a lock left by a process that died is broken', async () => {
    cli = testCli({
      lock: { pid: process.pid, hostname: 'test-host', isAlive: (pid) => pid === process.pid },
    });
    fakeVendApi(cli);
    await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    const [file] = cacheFiles(cli);
    const lock = join(cacheDir(cli), (file ?? '').replace(/\.json$/, '.lock'));
    writeFileSync(lock, JSON.stringify({ pid: 999_999_999, hostname: 'test-host', nonce: 'dead' }));

    const result = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);

    expect(result.code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it('a live lock held past the wait fails with exit 1 and no output', async () => {
    let clock = Date.now();
    cli = testCli({
      now: () => new Date(clock),
      sleep: async (ms) => {
        clock += ms;
      },
    });
    fakeVendApi(cli);
    const dir = cacheDir(cli);
    await cli.run('credential-process', '--profile', 'dev', ...LOCAL);
    const [file] = cacheFiles(cli);
    const lock = join(dir, (file ?? '').replace(/\.json$/, '.lock'));
    writeFileSync(lock, JSON.stringify({ pid: 4242, hostname: 'test-host', nonce: 'busy' }));

    const result = await cli.run('credential-process', '--profile', 'dev', ...LOCAL);

    expect([result.code, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toMatch(/another sentinel-sessions run \(pid 4242\) holds/);
    expect(existsSync(lock)).toBe(true);
  });

  it('a run asked for its own signing credentials stops with exit 2 naming --aws-profile, and so does its parent', async () => {
    // Prepare: the credential chain starts the same command as a child (AWS_PROFILE names the profile that
    // runs it), in the environment the parent set; the SDK then reports only that no provider worked.
    let child: { code: number; stdout: string; stderr: string } | undefined;
    cli = testCli({
      credentials: () => async () => {
        child = await cli.runIn(cli.runningEnv(), 'credential-process', '--profile', 'dev', '--api', AWS_API);
        throw new Error('Could not load credentials from any providers');
      },
    });
    fakeVendApi(cli);

    // Act
    const parent = await cli.run('credential-process', '--profile', 'dev', '--api', AWS_API);

    // Assess
    expect([child?.code, child?.stdout]).toEqual([2, '']);
    expect(child?.stderr).toMatch(
      /asked for the credentials that sign its own requests: pass --aws-profile NAME/,
    );
    expect([parent.code, parent.stdout]).toEqual([2, '']);
    expect(parent.stderr).toMatch(
      /^sentinel-sessions: credential-process for profile dev was asked .*pass --aws-profile NAME/,
    );
    expect(cli.requests).toEqual([]);
    expect(readdirSync(cacheDir(cli)).filter((f) => f.startsWith('recursion-'))).toEqual([]);
  });

  it('a chain through other APIs or profiles is not recursion', async () => {
    // Prepare: the parent serves ops; its signing credentials come from a run for dev, which signs with base.
    let child: { code: number; stdout: string } | undefined;
    cli = testCli({
      credentials: (awsProfile) => async () => {
        if (awsProfile === 'base') return { accessKeyId: 'AKIDBASE', secretAccessKey: 'base-secret' };
        child = await cli.runIn(
          cli.runningEnv(),
          'credential-process',
          '--profile',
          'dev',
          '--api',
          AWS_API,
          '--aws-profile',
          'base',
        );
        const output = JSON.parse(child.stdout) as { AccessKeyId: string; SecretAccessKey: string };
        return { accessKeyId: output.AccessKeyId, secretAccessKey: output.SecretAccessKey };
      },
    });
    fakeVendApi(cli);

    const parent = await cli.run('credential-process', '--profile', 'ops', '--api', AWS_API);

    expect(child?.code).toBe(0);
    expect(parent.code).toBe(0);
    expect(cli.runningEnv()[RECURSION_ENV]).toMatch(/^[0-9a-f]{16},[0-9a-f]{16}$/);
    expect(cli.env[RECURSION_ENV]).toBeUndefined();
  });
});
