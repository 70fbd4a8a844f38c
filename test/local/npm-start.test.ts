/**
 * `npm start` as people run it, in a child process: it says when it is up, shows every time on one clock,
 * warns once that its credentials are fake, starts with an empty audit file, stops everything it started
 * (DynamoDB Local's Java included) when npm itself gets SIGTERM, and reports a busy port in one line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.js';
import type { EventEnvelope } from '../../local/event-bus.js';
import { LOCAL_CALLER_HEADER } from '../../local/http-api.js';
import { REPO_ROOT } from '../../local/template.js';

/** Processes are found through /proc. */
const describeOnLinux = describe.skipIf(!existsSync('/proc/self/stat'));
/** Not faster: a sweeper run must take less than a minute of the stack's clock (250 ms) on a loaded machine. */
const TIME_SCALE = 240;
/** The local dev profile's idle window: 960 s of stack time, 4 s of real time at 240x. */
const IDLE_SECONDS = 960;
const ALICE = 'arn:aws:iam::123456789012:user/alice';

// ------------------------------------------------------------------------------------------- processes

const statOf = (pid: number): { state: string; ppid: number } | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', ppid = '0'] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
};
const isAlive = (pid: number): boolean => {
  const state = statOf(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
};
const allPids = (): number[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
const commandOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
};
/** `root` and every process below it, by parent links. */
const treeOf = (root: number): number[] => {
  const pids = allPids();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const pid of pids) if (statOf(pid)?.ppid === tree[i]) tree.push(pid);
  }
  return tree;
};
/** Live processes whose environment carries this run's marker: whatever `npm start` started, in any group. */
const marked = (marker: string): number[] =>
  allPids().filter((pid) => {
    try {
      return (
        isAlive(pid) && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`SENTINEL_TEST_RUN=${marker}`)
      );
    } catch {
      return false;
    }
  });
const killAll = (pids: readonly number[]): void => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (
  what: string | (() => string),
  check: () => boolean,
  timeoutMs: number,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    await sleep(25);
  }
};

interface NpmStart {
  readonly child: ChildProcess;
  readonly marker: string;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<number | null>;
}

const npmStart = (env: Record<string, string>): NpmStart => {
  const marker = randomUUID();
  // detached: npm leads a process group of its own, as a shell's job would.
  const child = spawn('npm', ['start'], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, SENTINEL_TEST_RUN: marker },
  });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, marker, output, exited };
};

/** Whatever a failed test left behind. */
const cleanUp = (run: NpmStart | undefined): void => {
  if (!run) return;
  try {
    if (run.child.pid) process.kill(-run.child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  killAll(marked(run.marker));
};

// ------------------------------------------------------------------------------------------- the stack

describeOnLinux('npm start', () => {
  let run: NpmStart | undefined;
  let url = '';
  const auditLog = join(tmpdir(), `sentinel-npm-start-audit-${process.pid}-${Date.now()}.jsonl`);
  let auditAtStart: string | undefined;
  /** Created as soon as the stack is up, so its expiry runs while the other checks do. */
  let clockSession: {
    readonly requestedAt: number;
    readonly status: number;
    readonly body: Record<string, unknown>;
  };

  const post = async (path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [LOCAL_CALLER_HEADER]: ALICE },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const audited = (): EventEnvelope<{ sessionId: string; occurredAt: string }>[] =>
    readFileSync(auditLog, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as EventEnvelope<{ sessionId: string; occurredAt: string }>);
  const logLines = (): Record<string, unknown>[] =>
    `${run?.output.stdout ?? ''}\n${run?.output.stderr ?? ''}`
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const allOutput = () => `${run?.output.stdout ?? ''}${run?.output.stderr ?? ''}`;

  beforeAll(async () => {
    // A previous run's events: the new run must not show them.
    writeFileSync(auditLog, '{"detail-type":"FromAnEarlierRun"}\n');
    run = npmStart({
      PORT: String(await freePort()),
      SENTINEL_TIME_SCALE: String(TIME_SCALE),
      SENTINEL_AUDIT_LOG: auditLog,
    });
    const started = run;
    await until(
      () => `"npm start" to say it is up; output so far:\n${started.output.stdout}${started.output.stderr}`,
      () => started.output.stdout.includes('Ctrl-C to stop.') || started.child.exitCode !== null,
      45_000,
    );
    url = /HTTP API\s+(http:\/\/\S+)/.exec(started.output.stdout)?.[1] ?? '';
    expect(url, started.output.stderr).not.toBe('');
    auditAtStart = existsSync(auditLog) ? readFileSync(auditLog, 'utf8') : undefined;
    const requestedAt = Date.now();
    clockSession = { requestedAt, ...(await post('/v1/sessions', { profile: 'dev' })) };
  }, 60_000);

  afterAll(() => {
    cleanUp(run);
    rmSync(auditLog, { force: true });
  });

  it('starts with an empty audit file and warns once, at start, that its credentials are fake', async () => {
    // Assess: nothing from the earlier run
    expect(auditAtStart).toBe('');
    // The warning comes with the start, before any vend.
    await until(
      'the fake-credentials warning',
      () => allOutput().includes('OFFLINE CREDENTIAL ISSUER'),
      2000,
    );

    // Act: several vends, and a revocation (its fan-out logs the notification)
    const first = await post('/v1/sessions', { profile: 'dev' });
    const sessionId = String(first.body.sessionId);
    expect((await post('/v1/sessions', { profile: 'dev' })).status).toBe(201);
    expect((await post(`/v1/sessions/${sessionId}/credentials`)).status).toBe(200);
    // The owner revokes its own session through the operator API.
    expect((await post(`/v1/sessions/${sessionId}/revoke`, { reason: 'test' })).status).toBe(200);
    await until(
      'the revocation fan-out',
      () => allOutput().includes('notification (revocation fan-out'),
      15_000,
    );

    // Assess
    expect(first.status).toBe(201);
    expect(allOutput().match(/OFFLINE CREDENTIAL ISSUER/g)).toHaveLength(1);
    expect(allOutput()).not.toMatch(/reserved key/i);
    expect(allOutput()).not.toMatch(/NodeVersionSupportWarning|end.of.support|no longer support/i);
    expect(logLines().find((l) => String(l.message).includes('revocation fan-out'))?.notification).toMatch(
      new RegExp(sessionId),
    );
    expect(audited().map((e) => e['detail-type'])).not.toContain('FromAnEarlierRun');
  });

  it('shows every time on one clock: the expiry a session is given is when the stack expires it', async () => {
    // Act (the session was created as soon as the stack was up)
    const { requestedAt, ...created } = clockSession;
    expect(created.status).toBe(201);
    const sessionId = String(created.body.sessionId);
    const expiresAt = Date.parse(String(created.body.expiresAt));
    await until(
      'SessionExpired in the audit log',
      () => audited().some((e) => e['detail-type'] === 'SessionExpired' && e.detail.sessionId === sessionId),
      20_000,
    );
    const seenAfterMs = Date.now() - requestedAt;

    // Assess: the response's promise
    const events = audited().filter((e) => e.detail.sessionId === sessionId);
    const createdAt = Date.parse(
      String(events.find((e) => e['detail-type'] === 'SessionCreated')?.detail.occurredAt),
    );
    // Expiries are rounded down to the second.
    expect((expiresAt - createdAt) / 1000).toBeGreaterThan(IDLE_SECONDS - 1);
    expect((expiresAt - createdAt) / 1000).toBeLessThanOrEqual(IDLE_SECONDS);
    const credentials = created.body.credentials as { Expiration: string };
    expect(Date.parse(credentials.Expiration)).toBeLessThanOrEqual(expiresAt);
    // Kept: it expired once the stack's clock reached expiresAt, not before (960 s at 240x is 4 s), and
    // within the sweeper's minute of it.
    expect(seenAfterMs).toBeGreaterThanOrEqual(((expiresAt - createdAt) / TIME_SCALE) * 0.98);
    const expired = events.find((e) => e['detail-type'] === 'SessionExpired');
    const expiredAt = Date.parse(String(expired?.detail.occurredAt));
    expect(expiredAt).toBeGreaterThanOrEqual(expiresAt);
    expect(expiredAt - expiresAt).toBeLessThanOrEqual(60_000);

    // Assess: every event is delivered (envelope time, to the second) at or after it occurred, on the same
    // clock, and soon after in real terms (a few seconds of pipeline, scaled).
    const slackMs = 3000 * TIME_SCALE;
    expect(events.map((e) => e['detail-type']).sort()).toEqual([
      'SessionCreated',
      'SessionExpired',
      'SessionStateChanged',
      'SessionStateChanged',
    ]);
    for (const event of events) {
      const lag = Date.parse(event.time) - Date.parse(event.detail.occurredAt);
      expect(lag, `${event['detail-type']} ${event.time} vs ${event.detail.occurredAt}`).toBeGreaterThan(
        -1000,
      );
      expect(lag, `${event['detail-type']} ${event.time} vs ${event.detail.occurredAt}`).toBeLessThan(
        slackMs,
      );
    }
    // The logs too: its lifecycle execution ended (stopped) once the stack's clock had passed expiresAt.
    const ended = logLines().find(
      (l) => l.message === 'workflow execution ended' && l.execution === sessionId,
    );
    expect(Date.parse(String(ended?.timestamp))).toBeGreaterThanOrEqual(expiresAt);
    expect(Date.parse(String(ended?.timestamp)) - expiresAt).toBeLessThan(slackMs);
  });

  it('stops everything it started, Java included, within 5 s of SIGTERM to the npm process', async () => {
    // Prepare: npm, its shell, tsx, the stack's node, Java and Java's guard
    const npmPid = run?.child.pid ?? 0;
    const tree = treeOf(npmPid);
    expect(tree.map(commandOf).some((command) => command.includes('DynamoDBLocal.jar'))).toBe(true);
    const mine = marked(run?.marker ?? '');
    expect(mine.length).toBeGreaterThanOrEqual(4);

    // Act
    const signalledAt = Date.now();
    process.kill(npmPid, 'SIGTERM');
    await until(
      'every process of npm start to exit',
      () => [...tree, ...mine].every((pid) => !isAlive(pid)),
      5000,
    );
    const stoppedMs = Date.now() - signalledAt;

    // Assess
    expect(stoppedMs).toBeLessThan(5000);
    expect(marked(run?.marker ?? '')).toEqual([]);
    await run?.exited;
    expect(run?.output.stdout).toMatch(/SIGTERM|exited: stopping/);
    expect(run?.output.stdout).toMatch(/stopped in \d+ ms/);
  });
});

describeOnLinux('npm start on a busy port', () => {
  let blocker: Server | undefined;
  let run: NpmStart | undefined;
  afterAll(async () => {
    cleanUp(run);
    const open = blocker;
    if (open) await new Promise((resolve) => open.close(resolve));
  });

  it('says so in one line naming the port and how to choose another, exits non-zero, leaves nothing running', async () => {
    // Prepare
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(port, '127.0.0.1', resolve));

    // Act
    run = npmStart({ PORT: String(port) });
    const code = await run.exited;

    // Assess
    const lines = run.output.stderr.trim().split('\n');
    expect(lines).toEqual([`port ${port} is in use: set PORT to use another (PORT=0 picks a free one)`]);
    expect(code).not.toBe(0);
    expect(marked(run.marker)).toEqual([]);
  }, 30_000);
});
