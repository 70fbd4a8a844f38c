/**
 * `npm run demo` as people run it: a real process (CI=true, no stdin) that starts its own stack, tells the
 * eight-step story and exits 0 only if every step happened; with one capability broken on purpose it exits 1
 * naming that step. Its output never carries an issued secret. The audit check it relies on is run here
 * against the demo's own audit log, intact and then tampered with, to show it reports what it guards.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../local/event-bus.js';
import { REPO_ROOT } from '../../local/template.js';
import {
  type AuditSubject,
  checkAuditOnce,
  describeSlackMessage,
  describeTeamsMessage,
  type IssuedSecrets,
  redactSecrets,
  STORY_AUDIT,
} from '../../scripts/demo/checks.js';
import { describeHits, findSecrets } from '../support/secret-scan.js';

const STEP_TITLES = [
  'alice creates a session and refreshes it',
  "bob's session expires on time",
  'carol is denied by the policy',
  'an admin revokes alice through the operator API',
  'the Slack and Teams receivers get the notification',
  "the verifier now denies alice's credentials",
  'the deny list holds her session',
  'the audit log shows each event once',
] as const;

interface DemoRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  readonly issued: readonly IssuedSecrets[];
  readonly auditLogPath: string;
}

const runId = `${process.pid}-${randomUUID().slice(0, 8)}`;
const scratch: string[] = [];

/** The demo in a child process, as `npm run demo` starts it (tsx), with no terminal and CI set. */
const runDemo = (args: readonly string[], env: Record<string, string> = {}): Promise<DemoRun> => {
  const tag = `${runId}-${scratch.length}`;
  const auditLogPath = join(tmpdir(), `sentinel-demo-test-audit-${tag}.jsonl`);
  const issuedPath = join(tmpdir(), `sentinel-demo-test-issued-${tag}.json`);
  scratch.push(auditLogPath, issuedPath);
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CI: 'true',
      DEMO_AUDIT_LOG: auditLogPath,
      DEMO_ISSUED_CREDENTIALS_FILE: issuedPath,
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // The demo bounds itself (55 s); this only keeps a hung child from outliving the suite. SIGTERM first: the
  // demo then stops its stack, DynamoDB Local's Java included.
  const watchdog = setTimeout(() => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  }, 80_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(watchdog);
      let issued: IssuedSecrets[] = [];
      try {
        issued = JSON.parse(readFileSync(issuedPath, 'utf8')) as IssuedSecrets[];
      } catch {
        // Not written: the demo ended before its stack did anything (the assertions say so).
      }
      resolve({ code, stdout, stderr, wallMs: Date.now() - startedAt, issued, auditLogPath });
    });
  });
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const stepLine = (verdict: 'PASS' | 'FAIL', index: number): RegExp =>
  new RegExp(`^${verdict} ${index + 1}\\. ${escapeRegExp(STEP_TITLES[index] ?? '')} \\(`, 'm');

/** The run's output, line by line, as sources for the secrets scan. */
const outputOf = (run: DemoRun, name: string): { where: string; text: string }[] => [
  ...run.stdout.split('\n').map((text, i) => ({ where: `${name} stdout line ${i + 1}`, text })),
  ...run.stderr.split('\n').map((text, i) => ({ where: `${name} stderr line ${i + 1}`, text })),
];

let healthy: DemoRun;
let broken: DemoRun;
let attach: DemoRun;
const suiteStartedAt = Date.now();

beforeAll(async () => {
  // Side by side: each run starts its own DynamoDB Local on free ports, and together they take half the time.
  [healthy, broken, attach] = await Promise.all([
    runDemo([]),
    runDemo(['--break', 'notifications']),
    runDemo(['--url', 'http://127.0.0.1:3000']),
  ]);
}, 85_000);

/** `exit 0, stack up 5.1 s, demo 15.3 s, process 17.0 s`: what one run reports of itself. */
const figuresOf = (run: DemoRun | undefined): string => {
  if (run === undefined) return 'did not run';
  const stackUp = /^stack up in ([\d.]+) s/m.exec(run.stdout)?.[1] ?? '?';
  const total = /^demo (?:passed|failed): .* in ([\d.]+) s$/m.exec(run.stdout)?.[1] ?? '?';
  return `exit ${run.code}, stack up ${stackUp} s, demo ${total} s, process ${(run.wallMs / 1000).toFixed(1)} s`;
};

afterAll(() => {
  for (const path of scratch) rmSync(path, { force: true });
  console.log(
    `demo suite: healthy run ${figuresOf(healthy)}; broken run ${figuresOf(broken)}; ` +
      `all side by side in ${((Date.now() - suiteStartedAt) / 1000).toFixed(1)} s`,
  );
});

describe('npm run demo', () => {
  it('tells all eight steps, each passed with what it did and its proof, and exits 0 within a minute', () => {
    expect(healthy.code, `${healthy.stdout}\n${healthy.stderr}`).toBe(0);
    STEP_TITLES.forEach((_, index) => {
      expect(healthy.stdout).toMatch(stepLine('PASS', index));
    });
    expect(healthy.stdout).not.toMatch(/^FAIL /m);
    expect(healthy.stdout.match(/^ {5}did: {3}\S/gm)).toHaveLength(8);
    expect(healthy.stdout.match(/^ {5}proof: \S/gm)).toHaveLength(8);
    // The evidence named by the brief, one or two facts per step.
    expect(healthy.stdout).toMatch(/SessionCreated \(rule local-account.*SessionTouched \(requestCount 2\)/);
    expect(healthy.stdout).toMatch(/SessionExpired \(reason (sweeper|workflow)/);
    expect(healthy.stdout).toMatch(/403 AccessDenied: .*rule "carol-suspended"/);
    expect(healthy.stdout).toMatch(/VendDenied \(user carol, rule carol-suspended/);
    expect(healthy.stdout).toMatch(/slack: Block Kit, \d+ blocks .*teams: Adaptive Card 1\.\d/);
    expect(healthy.stdout).toMatch(/Allowed after step 1, now SessionRevoked/);
    expect(healthy.stdout).toMatch(/denied: \[[0-9a-f]{8}…\]/);
    const total = /^demo passed: all 8 steps in ([\d.]+) s$/m.exec(healthy.stdout);
    expect(total, healthy.stdout).not.toBeNull();
    expect(Number(total?.[1])).toBeLessThan(60);
  });

  it('prints no credential it was issued, nor anything credential-shaped (secrets scan)', () => {
    // alice's create and refresh, bob's create: three sets of (fake, offline) credentials.
    expect(healthy.issued).toHaveLength(3);
    const hits = findSecrets(
      [...outputOf(healthy, 'healthy run'), ...outputOf(broken, 'broken run')],
      [...healthy.issued, ...broken.issued],
    );
    expect(hits, describeHits(hits)).toEqual([]);
    // The scan does find them, were the demo to print one.
    const [first] = healthy.issued;
    const leaked = [{ where: 'a leaky line', text: `token ${String(first?.sessionToken)}` }];
    expect(findSecrets(leaked, healthy.issued).map((hit) => hit.kind)).toEqual(['issued-session-token']);
  });

  it('broken on purpose: with the webhooks failing it exits 1 naming step 5, the other steps still passing', () => {
    expect(broken.code, broken.stdout).toBe(1);
    expect(broken.stdout).toMatch(/^BROKEN ON PURPOSE \(--break notifications\)/m);
    expect(broken.stdout).toMatch(stepLine('FAIL', 4));
    expect(broken.stdout).toMatch(
      /why: {3}RevocationNotified says not delivered to slack and teams \(after \d+ POSTs to \/slack, \d+ POSTs to \/teams\)/,
    );
    expect(broken.stdout).toMatch(
      /^demo FAILED at step 5\. the Slack and Teams receivers get the notification$/m,
    );
    for (const index of [0, 1, 2, 3, 5, 6, 7]) expect(broken.stdout).toMatch(stepLine('PASS', index));
  });

  it('refuses --url with exit 2, saying why, and starts nothing', () => {
    expect(attach.code).toBe(2);
    expect(attach.stderr).toMatch(/^--url: the demo does not attach to a running stack/);
    expect(attach.stdout).toBe('');
  });
});

describe("the demo's audit check, on the healthy run's own audit log", () => {
  const load = (): { audited: EventEnvelope[]; subjects: AuditSubject[] } => {
    const audited = readFileSync(healthy.auditLogPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as EventEnvelope);
    const sessionOf = (user: string): string => {
      const created = audited.find(
        (e) => e['detail-type'] === 'SessionCreated' && (e.detail as { user?: string }).user === user,
      );
      return String((created?.detail as { sessionId?: string } | undefined)?.sessionId);
    };
    return {
      audited,
      subjects: [
        { name: 'alice', user: 'alice', sessionId: sessionOf('alice'), expected: STORY_AUDIT.alice },
        { name: 'bob', user: 'bob', sessionId: sessionOf('bob'), expected: STORY_AUDIT.bob },
        { name: 'carol', user: 'carol', sessionId: null, expected: STORY_AUDIT.carol },
      ],
    };
  };

  it('accepts the log as written', () => {
    const { audited, subjects } = load();
    expect(checkAuditOnce(audited, audited, subjects)).toHaveLength(3);
  });

  it('reports a line written twice, a fact recorded under two ids, and a missing terminal event', () => {
    const { audited, subjects } = load();
    const revoked = audited.find((e) => e['detail-type'] === 'SessionRevoked');
    if (revoked === undefined) throw new Error('the healthy run left no SessionRevoked in its audit log');
    expect(() => checkAuditOnce([...audited, revoked], audited, subjects)).toThrow(
      `alice: event ${revoked.id} is in the log 2 times`,
    );
    expect(() => checkAuditOnce([...audited, { ...revoked, id: randomUUID() }], audited, subjects)).toThrow(
      'SessionRevoked recorded 2 times',
    );
    expect(() =>
      checkAuditOnce(
        audited.filter((e) => e !== revoked),
        audited,
        subjects,
      ),
    ).toThrow(/published SessionRevoked .* is not in the log.*SessionRevoked ×0, expected ×1/);
  });

  it('tells a Slack post from a Teams post, and redacts issued secrets', () => {
    const slack = { text: 'revoked', blocks: [{ type: 'header' }, { type: 'section' }] };
    const teams = {
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock' }] },
        },
      ],
    };
    expect(describeSlackMessage(slack)).toBe('Block Kit, 2 blocks (header, section), text "revoked"');
    expect(describeTeamsMessage(teams)).toBe('Adaptive Card 1.4, 1 element (TextBlock)');
    expect(() => describeSlackMessage(teams)).toThrow('no `text`');
    expect(() => describeTeamsMessage(slack)).toThrow('not a `{"type":"message"}` object');
    const issued = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'sekret', sessionToken: 'tok3n' };
    expect(redactSecrets('ASIAEXAMPLE sekret tok3n', [issued])).toBe('ASIAEXAMPLE [redacted] [redacted]');
  });
});
