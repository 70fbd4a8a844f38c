/**
 * The bundle `npm run build` makes is minified: class names are renamed. Error names must survive it, or a
 * ConfigurationError logs as a two-letter identifier. Built once with scripts/build.ts, cold-started in its
 * own node process with an invalid PROFILES.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, buildHandler } from '../../../scripts/build.js';

describe('error names in the built vend bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vend-names-'));
  const bundle = join(dir, 'vend.mjs');
  beforeAll(async () => {
    await buildHandler({ entry: 'vend', outdir: dir });
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a cold start on a bad PROFILES fails with a ConfigurationError named so, naming the variable', async () => {
    // Prepare: a 12-hour profile, which role chaining cannot serve.
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      SESSIONS_TABLE_NAME: 'sessions',
      IDEMPOTENCY_TABLE_NAME: 'idempotency',
      EVENT_BUS_NAME: 'bus',
      PROFILES: JSON.stringify({
        dev: {
          roleArn: 'arn:aws:iam::444455556666:role/dev',
          maxDurationSeconds: 43_200,
          idleTimeoutSeconds: 3600,
          maxLifetimeSeconds: 43_200,
        },
      }),
    };
    const script = `try { await import(${JSON.stringify(bundle)}); process.stdout.write('loaded'); }
      catch (error) { process.stdout.write(JSON.stringify({ name: error.name, message: error.message })); }`;

    // Act
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env,
      timeout: 20_000,
    });

    // Assess
    const failure = JSON.parse(stdout) as { name: string; message: string };
    expect(failure.name).toBe('ConfigurationError');
    expect(failure.message).toMatch(/PROFILES.*role chaining/);
  });

  it.each([
    'ConfigurationError',
    'InvalidInputError',
    'UnsupportedPrincipalError',
    'IssuerDeniedError',
    'IssuerThrottledError',
    'IssuerFailedError',
    'HttpRequestError',
    'CreateRefusedError',
  ])('keeps the literal name %s', (name) => {
    // A boolean, so that a failure does not print the whole bundle.
    expect(readFileSync(bundle, 'utf8').includes(`"${name}"`), `"${name}" in the bundle`).toBe(true);
  });
});

describe('the CLI bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-cli-build-'));
  const bin = join(dir, 'sentinel-sessions.mjs');
  beforeAll(async () => {
    await buildCli(dir);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is one executable file that node runs as a script', async () => {
    expect(readdirSync(dir)).toEqual(['sentinel-sessions.mjs']);
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(statSync(bin).mode & 0o111).toBe(0o111);

    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--help'], { timeout: 20_000 });

    expect(stdout).toMatch(/Usage: sentinel-sessions/);
  });

  it("keeps the SDK's real credential chain (profiles, SSO, credential_process), not the Lambda stand-in", () => {
    const text = readFileSync(bin, 'utf8');
    expect(text.includes('credential_process returned invalid JSON'), 'fromProcess is bundled').toBe(true);
    expect(text.includes('Lambda environment only'), 'the Lambda provider is not').toBe(false);
  });
});
