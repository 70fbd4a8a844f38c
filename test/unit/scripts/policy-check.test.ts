/**
 * `npm run policy:check`, spawned as a user runs it (through tsx), against the shipped local policy and
 * against broken ones: what it prints and how it exits (0 allow or valid, 1 deny or invalid, 2 usage).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'policy-check.ts');
const LOCAL_POLICY = join(ROOT, 'local', 'policy.yaml');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const check = (...args: string[]): Promise<Run> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', SCRIPT, ...args],
      { cwd: ROOT, timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });

const dir = mkdtempSync(join(tmpdir(), 'policy-check-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LOCAL = '123456789012';
const ADMIN = `arn:aws:sts::${LOCAL}:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice`;
/** A Monday, 10:30 in Berlin. */
const MONDAY_MORNING = '2026-03-02T09:30:00Z';

describe('policy:check', { timeout: 60_000 }, () => {
  it.concurrent('validates the local policy: "valid, N rules, version V", exit 0', async () => {
    const run = await check(LOCAL_POLICY);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe('valid, 4 rules, version 1\n');
  });

  it.concurrent('local policy: dev is allowed to everyone in the local account', async () => {
    const run = await check(
      LOCAL_POLICY,
      '--principal',
      `arn:aws:iam::${LOCAL}:user/bob`,
      '--profile',
      'dev',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^effect: allow$/m);
    expect(run.stdout).toMatch(/^rule: local-account$/m);
    expect(run.stdout).toMatch(/^reason: rule "local-account" allows$/m);
    expect(run.stdout).toMatch(
      /request: principal arn:aws:iam::123456789012:user\/bob, user bob, account 123456789012/,
    );
  });

  it.concurrent('local policy: carol is denied dev, with the reason, exit 1', async () => {
    const run = await check(
      LOCAL_POLICY,
      '--principal',
      `arn:aws:iam::${LOCAL}:user/carol`,
      '--profile',
      'dev',
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^effect: deny$/m);
    expect(run.stdout).toMatch(/^rule: carol-suspended$/m);
    expect(run.stdout).toMatch(/^reason: carol's access is suspended/m);
  });

  it.concurrent('local policy: a session named carol under another role is not carol', async () => {
    const run = await check(
      LOCAL_POLICY,
      '--principal',
      `arn:aws:sts::${LOCAL}:assumed-role/SomeRole/carol`,
      '--profile',
      'dev',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/user SomeRole\/carol/);
  });

  it.concurrent('--user overrides the user derived from the principal', async () => {
    const run = await check(
      LOCAL_POLICY,
      '--principal',
      `arn:aws:iam::${LOCAL}:user/bob`,
      '--profile',
      'dev',
      '--user',
      'carol',
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^rule: carol-suspended$/m);
  });

  it.concurrent('local policy: an admin gets prod in working hours, with the lifetime cap', async () => {
    const run = await check(LOCAL_POLICY, '--principal', ADMIN, '--profile', 'prod', '--at', MONDAY_MORNING);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^rule: prod-admins-working-hours$/m);
    expect(run.stdout).toMatch(/^maxLifetimeSeconds: 3600$/m);
    expect(run.stdout).toMatch(/^policyVersion: 1$/m);
  });

  it.concurrent('local policy: an admin on Sunday, or a developer, is denied prod', async () => {
    const sunday = await check(
      LOCAL_POLICY,
      '--principal',
      ADMIN,
      '--profile',
      'prod',
      '--at',
      '2026-03-01T09:30:00Z',
    );
    const developer = await check(
      LOCAL_POLICY,
      '--principal',
      `arn:aws:iam::${LOCAL}:user/bob`,
      '--profile',
      'prod',
      '--at',
      MONDAY_MORNING,
      '--org',
      'o-exampleorg1',
    );
    for (const run of [sunday, developer]) {
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^rule: prod-others$/m);
      expect(run.stdout).toMatch(/^reason: prod is for Identity Center admins/m);
    }
    expect(developer.stdout).toMatch(/org o-exampleorg1/);
  });

  it.concurrent('prints every problem of a broken policy, exit 1', async () => {
    const broken = file(
      'broken.yaml',
      "version: 1\nadmins: []\nrules:\n  - { name: a, effect: allow, profiles: [''] }\n  - { name: a, effect: allow, time: { hours: '9-5', timezone: Mars/Base } }\n",
    );
    const run = await check(broken);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/broken\.yaml is invalid \(4 problems\)/);
    expect(run.stdout).toMatch(/rules\[0\] \("a"\)\.profiles\[0\]: invalid profile pattern ""/);
    expect(run.stdout).toMatch(/rules\[1\] \("a"\)\.time\.hours: hours must be "HH:MM-HH:MM"/);
    expect(run.stdout).toMatch(/rules\[1\] \("a"\)\.time\.timezone: unknown time zone "Mars\/Base"/);
    expect(run.stdout).toMatch(/rules\[1\] \("a"\)\.name: duplicate rule name "a"/);
  });

  it.concurrent('warns about a shadowed rule and still validates', async () => {
    const shadowed = file(
      'shadowed.yaml',
      'version: 2\nadmins: []\nrules:\n  - { name: all, effect: deny }\n  - { name: dev, effect: allow, profiles: [dev] }\n',
    );
    const run = await check(shadowed);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'valid, 2 rules, version 2\nwarning: rule "dev" can never match: the earlier rule "all" (deny) matches everything it does\n',
    );
  });

  it.concurrent.each([
    ['no file', [], /no policy file given/],
    ['two files', [LOCAL_POLICY, LOCAL_POLICY], /exactly one policy file/],
    ['an unknown option', [LOCAL_POLICY, '--bogus'], /Unknown option '--bogus'/],
    ['an option without its value', [LOCAL_POLICY, '--principal'], /argument missing|requires/i],
    ['--profile without --principal', [LOCAL_POLICY, '--profile', 'dev'], /--profile needs --principal/],
    ['--principal without --profile', [LOCAL_POLICY, '--principal', ADMIN], /--principal needs --profile/],
    [
      'a date that is not ISO 8601',
      [LOCAL_POLICY, '--principal', ADMIN, '--profile', 'dev', '--at', '03/04/2026'],
      /--at: "03\/04\/2026" is not an ISO 8601/,
    ],
    [
      'a principal that cannot own a session',
      [LOCAL_POLICY, '--principal', `arn:aws:iam::${LOCAL}:root`, '--profile', 'dev'],
      /--principal: .*root user/,
    ],
    ['a missing file', [join(dir, 'nope.yaml')], /cannot read .*nope\.yaml/],
  ] as const)('usage error: %s, exit 2', async (_label, args, message) => {
    const run = await check(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it.concurrent('--help prints the usage, exit 0', async () => {
    const run = await check('--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run policy:check FILE/);
  });
});
