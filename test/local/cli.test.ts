/**
 * The built `sentinel-sessions` executable, spawned as a real process against the local stack, as the AWS
 * CLI would run it: credential_process output by the AWS CLI's rules, the cached session reused, an
 * operator's revocation refused on the next run, and usage mistakes. Few spawns: each costs ~0.3 s.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CALLER_HEADER } from '../../local/http-api.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { buildCli, CLI_FILE_NAME } from '../../scripts/build.js';
import { LOCAL_CALLER_HEADER as CLI_CALLER_HEADER } from '../../src/cli/target.js';

const ALICE = 'arn:aws:iam::123456789012:user/alice';
const ADMIN = 'arn:aws:iam::123456789012:user/admin';

const work = mkdtempSync(join(tmpdir(), 'sentinel-cli-local-'));
const bin = join(work, 'bin', CLI_FILE_NAME);
const cacheDir = join(work, 'cache', 'sentinel-sessions');
let stack: LocalStack;

beforeAll(async () => {
  [stack] = await Promise.all([
    startLocalStack({ logLevel: 'SILENT', auditLogPath: join(work, 'audit.jsonl'), batchingWindowMs: 50 }),
    buildCli(join(work, 'bin')),
  ]);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Runs the executable with a clean environment: no AWS credentials, its own home and cache. */
const cli = (...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH, HOME: work, XDG_CACHE_HOME: join(work, 'cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill(), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

const cachedSessionId = (): string => {
  const [file] = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
  return (JSON.parse(readFileSync(join(cacheDir, file ?? ''), 'utf8')) as { session: { sessionId: string } })
    .session.sessionId;
};

/** What the AWS CLI checks in credential_process output before it uses it. */
const expectAwsCliAccepts = (stdout: string) => {
  const output = JSON.parse(stdout) as Record<string, unknown>;
  expect(output.Version).toBe(1);
  for (const key of ['AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration']) {
    expect(typeof output[key], key).toBe('string');
  }
  const expiration = String(output.Expiration);
  expect(expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  expect(Date.parse(expiration)).toBeGreaterThan(Date.now());
};

describe('sentinel-sessions against the local stack', () => {
  it('sends the caller in the header the local HTTP API reads', () => {
    expect(CLI_CALLER_HEADER).toBe(LOCAL_CALLER_HEADER);
  });

  it('credential-process vends, caches the session (0600) and refreshes it on the next run', async () => {
    // Act
    const first = await cli('credential-process', '--profile', 'dev', '--api', stack.url, '--caller', ALICE);
    const firstSession = cachedSessionId();
    const second = await cli('credential-process', '--profile', 'dev', '--api', stack.url, '--caller', ALICE);

    // Assess
    expect([first.code, first.stderr]).toEqual([0, '']);
    expectAwsCliAccepts(first.stdout);
    expect(second.code).toBe(0);
    expectAwsCliAccepts(second.stdout);
    expect(cachedSessionId()).toBe(firstSession);
    const [file] = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
    expect(statSync(join(cacheDir, file ?? '')).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(cacheDir, file ?? ''), 'utf8')).not.toContain(
      JSON.parse(first.stdout).SecretAccessKey,
    );
    // One session, served twice.
    const row = await stack.store.get(firstSession);
    expect([row?.status, row?.requestCount]).toEqual(['active', 2]);
    const listed = await cli('list', '--api', stack.url, '--caller', ALICE);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${firstSession}  alice  dev  +active .* 2$`, 'm'));
  });

  it("after an operator's revoke, credential-process exits 1 with the reason and no output, and keeps refusing", async () => {
    // Prepare: alice's cached session, revoked by the admin through the API.
    const sessionId = cachedSessionId();
    const revoked = await cli(
      'revoke',
      sessionId,
      '--reason',
      'laptop lost',
      '--api',
      stack.url,
      '--caller',
      ADMIN,
    );
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/revokedReason: +laptop lost/);

    // Act
    const refused = await cli(
      'credential-process',
      '--profile',
      'dev',
      '--api',
      stack.url,
      '--caller',
      ALICE,
    );
    const again = await cli('credential-process', '--profile', 'dev', '--api', stack.url, '--caller', ALICE);

    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      new RegExp(`^sentinel-sessions: session ${sessionId} was revoked: laptop lost`),
    );
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect([again.code, again.stdout]).toEqual([1, '']);
    expect(again.stderr).toMatch(/was revoked: laptop lost.*--new-session/);
    expect((await stack.store.get(sessionId))?.status).toBe('revoked');
  });

  it('bad arguments exit 2 with the usage, before any request', async () => {
    const result = await cli(
      'credential-process',
      '--api',
      stack.url,
      '--caller',
      ALICE,
      '--duration',
      'soon',
    );

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Usage: sentinel-sessions credential-process/);
  });

  it('tail --local prints the audit trail the stack wrote', async () => {
    const result = await cli(
      'tail',
      '--local',
      '--no-follow',
      '--audit-file',
      stack.auditLogPath,
      '--since',
      '1h',
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ {2}SessionCreated {2}[0-9a-f]{32} {2}alice {2}profile=dev/);
  });
});
