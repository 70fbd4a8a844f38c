/**
 * `tail`: in AWS, FilterLogEvents polls of the audit log group (aws-sdk-client-mock), each event printed
 * once, in order, across pages and overlapping polls; locally, the JSON-lines audit file.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  type FilterLogEventsCommandInput,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tailLine } from '../../../src/cli/format.js';
import { type TestCli, testCli } from './cli-io.js';

const logs = mockClient(CloudWatchLogsClient);
const NOW = Date.parse('2026-11-28T12:00:00Z');

const event = (id: string, type: string, detail: Record<string, unknown>, time = '2026-11-28T11:59:00Z') => ({
  version: '0',
  id,
  'detail-type': type,
  source: 'sentinel.sessions',
  time,
  detail: { schemaVersion: '1', user: 'alice', profile: 'dev', occurredAt: time, ...detail },
});
const SESSION = 'a'.repeat(32);
const CREATED = event('e1', 'SessionCreated', {
  sessionId: SESSION,
  principalArn: 'arn:aws:iam::1:user/alice',
  expiresAt: '2026-11-28T12:15:00.000Z',
  accessRule: 'local-account',
});
const REVOKED = event('e2', 'SessionRevoked', {
  sessionId: SESSION,
  revokedBy: 'secops',
  reason: 'laptop lost',
});
const logEvent = (eventId: string, body: object, timestamp: number) => ({
  eventId,
  timestamp,
  message: JSON.stringify(body),
});

let cli: TestCli;
beforeEach(() => logs.reset());
afterEach(() => cli?.cleanup());

/** A CLI whose `tail` stops after `polls` polls (the abort is its Ctrl-C). */
const tailingCli = (polls: number) => {
  const stop = new AbortController();
  let sleeps = 0;
  return testCli({
    now: () => new Date(NOW),
    logsClient: () => new CloudWatchLogsClient({ region: 'eu-west-1' }),
    signal: stop.signal,
    sleep: async () => {
      if (++sleeps >= polls) stop.abort();
    },
  });
};

describe('tail in AWS', () => {
  it('prints each event once, oldest first, across pages and overlapping polls', async () => {
    // Prepare: poll 1 has two pages; poll 2 sees e2 again (overlap) and a new e3.
    const STATE = event('e3', 'SessionStateChanged', {
      sessionId: SESSION,
      fromStatus: 'active',
      toStatus: 'revoked',
    });
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [logEvent('e2', REVOKED, NOW - 30_000)], nextToken: 'page2' })
      .resolvesOnce({ events: [logEvent('e1', CREATED, NOW - 60_000)] })
      .resolvesOnce({ events: [logEvent('e2', REVOKED, NOW - 30_000), logEvent('e3', STATE, NOW - 29_000)] });
    cli = tailingCli(2);

    // Act
    const result = await cli.run('tail', '--stage', 'prod', '--since', '5m', '--region', 'eu-west-1');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `2026-11-28T11:59:00Z  SessionCreated  ${SESSION}  alice  profile=dev expiresAt=2026-11-28T12:15:00Z accessRule=local-account`,
        `2026-11-28T11:59:00Z  SessionRevoked  ${SESSION}  alice  profile=dev revokedBy=secops reason="laptop lost"`,
        `2026-11-28T11:59:00Z  SessionStateChanged  ${SESSION}  alice  profile=dev fromStatus=active toStatus=revoked`,
        '',
      ].join('\n'),
    );
    const inputs = logs
      .commandCalls(FilterLogEventsCommand)
      .map((call) => call.args[0].input as FilterLogEventsCommandInput);
    expect(inputs.map((i) => i.logGroupName)).toEqual(
      Array(3).fill('/aws/events/sentinel-sessions-audit-prod'),
    );
    expect(inputs[0]).toMatchObject({ startTime: NOW - 300_000 });
    expect(inputs[1]).toMatchObject({ startTime: NOW - 300_000, nextToken: 'page2' });
    // The next poll looks back from the newest event seen, for late ingestion.
    expect(inputs[2]?.startTime).toBe(NOW - 30_000 - 120_000);
  });

  it('--json prints each event as it was logged; --no-follow polls once', async () => {
    logs.on(FilterLogEventsCommand).resolves({ events: [logEvent('e1', CREATED, NOW - 60_000)] });
    cli = tailingCli(99);

    const result = await cli.run(
      'tail',
      '--json',
      '--no-follow',
      '--log-group',
      '/custom/audit',
      '--region',
      'eu-west-1',
    );

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(CREATED);
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(1);
    expect(logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input.logGroupName).toBe('/custom/audit');
  });

  it('a missing log group exits 1 saying which', async () => {
    logs
      .on(FilterLogEventsCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    cli = tailingCli(99);

    const result = await cli.run('tail', '--region', 'eu-west-1');

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'sentinel-sessions: the audit log group /aws/events/sentinel-sessions-audit-dev does not exist (check --stage, --log-group and --region)\n',
    });
  });

  it('throttling while following is waited out; without --follow it fails', async () => {
    logs
      .on(FilterLogEventsCommand)
      .rejectsOnce(new ThrottlingException({ message: 'slow down', $metadata: {} }))
      .resolves({ events: [logEvent('e1', CREATED, NOW - 60_000)] });
    cli = tailingCli(2);

    const following = await cli.run('tail', '--region', 'eu-west-1');
    cli.cleanup();
    logs.reset();
    logs.on(FilterLogEventsCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    cli = tailingCli(99);
    const once = await cli.run('tail', '--no-follow', '--region', 'eu-west-1');

    expect(following.code).toBe(0);
    expect(following.stderr).toMatch(/failed \(ThrottlingException\); trying again/);
    expect(following.stdout).toContain('SessionCreated');
    expect([once.code, once.stdout]).toEqual([1, '']);
    expect(once.stderr).toMatch(
      /reading \/aws\/events\/sentinel-sessions-audit-dev failed: ThrottlingException: slow down/,
    );
  });
});

describe('tail on the local stack', () => {
  it('reads the audit file, skipping events before --since, and follows what is appended', async () => {
    // Prepare
    const stop = new AbortController();
    let polls = 0;
    let path = '';
    cli = testCli({
      now: () => new Date(NOW),
      signal: stop.signal,
      sleep: async () => {
        polls++;
        // Between polls the stack appends an event, in two writes (a line may arrive in pieces).
        if (polls === 1) appendFileSync(path, JSON.stringify(REVOKED).slice(0, 40));
        if (polls === 2) appendFileSync(path, `${JSON.stringify(REVOKED).slice(40)}\n`);
        if (polls === 3) stop.abort();
      },
    });
    path = join(cli.home, 'audit.jsonl');
    const old = event('e0', 'SessionCreated', { sessionId: SESSION }, '2026-11-28T10:00:00Z');
    writeFileSync(path, `${JSON.stringify(old)}\n${JSON.stringify(CREATED)}\n`);

    // Act
    const result = await cli.run('tail', '--local', '--audit-file', path, '--since', '1h');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${tailLine(CREATED)}\n${tailLine(REVOKED)}\n`);
  });

  it('finds the file through SENTINEL_AUDIT_LOG; a missing file without --follow exits 1', async () => {
    cli = testCli({ now: () => new Date(NOW) });
    cli.env.SENTINEL_AUDIT_LOG = join(cli.home, 'nowhere.jsonl');

    const result = await cli.run('tail', '--local', '--no-follow');

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /no audit file at .*nowhere\.jsonl: is the local stack running \(npm start\)\?/,
    );
  });
});
