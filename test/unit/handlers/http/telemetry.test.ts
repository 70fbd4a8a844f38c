/**
 * Logs through the real Powertools Logger: every line of a request carries requestId, user and sessionId,
 * and no credential (nor the caller's SigV4 material from the request) ever reaches the output.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { powertoolsTelemetry } from '../../../../src/handlers/http/telemetry.js';
import { IssuerFailedError } from '../../../../src/ports.js';
import {
  bodyOf,
  FIXTURE_USER,
  fixture,
  lambdaContext,
  refreshOf,
  SECRET_MARK,
  setup,
  TOKEN_MARK,
} from '../../../support/vend-api.js';

describe('vend logging', () => {
  let output: string[];
  beforeEach(() => {
    output = [];
    // Powertools writes INFO/WARN lines to stdout and ERROR lines to stderr.
    const capture = (chunk: string | Uint8Array): boolean => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('puts requestId, user and sessionId on every line and never a credential', async () => {
    // Prepare
    const logger = new Logger({ serviceName: 'sentinel-sessions', logLevel: 'DEBUG' });
    const { api, issuer } = setup({ telemetry: powertoolsTelemetry(logger, () => undefined) });
    const invoke = async (event: ReturnType<typeof fixture>, id: string) => {
      logger.addContext(lambdaContext(id));
      try {
        return await api(event, lambdaContext(id));
      } finally {
        logger.resetKeys();
      }
    };

    // Act: a create, a refresh, and a refresh whose STS call fails (error path logging).
    const created = await invoke(fixture('create'), 'lambda-1');
    const { sessionId } = bodyOf(created) as { sessionId: string };
    const refreshed = await invoke(refreshOf(sessionId), 'lambda-2');
    issuer.failNext(new IssuerFailedError('AssumeRole failed: InternalError'));
    await invoke(refreshOf(sessionId), 'lambda-3');

    // Assess
    expect([created.statusCode, refreshed.statusCode]).toEqual([201, 200]);
    const lines = output
      .join('')
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) {
      expect(record).toMatchObject({ user: FIXTURE_USER, sessionId });
      expect(String(record.requestId)).toMatch(/^EXAMPLEreqId[01]=$/);
    }
    expect(records.some((r) => r.level === 'ERROR' && r.message === 'credential issuer failed')).toBe(true);
    const everything = output.join('');
    const request = fixture('create');
    for (const secret of [
      SECRET_MARK,
      TOKEN_MARK,
      'ASIAFAKETEST',
      request.headers?.['x-amz-security-token'] ?? 'unreachable',
      'Signature=',
    ]) {
      expect(everything).not.toContain(secret);
    }
  });
});
