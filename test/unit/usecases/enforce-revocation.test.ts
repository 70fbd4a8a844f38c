/**
 * The revocation enforcer use case: its input contract (the payload revocation-fanout builds from the session
 * row, events/enforcer/revoked-session.json) and what it asks the access enforcer to deny.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AccessEnforcer } from '../../../src/ports.js';
import {
  createRevocationEnforcer,
  InvalidEnforcementInputError,
} from '../../../src/usecases/enforce-revocation.js';

const fixture = JSON.parse(readFileSync('events/enforcer/revoked-session.json', 'utf8')) as Record<
  string,
  string
>;

/** Records what it was asked to deny. */
const recording = () => {
  const calls: Parameters<AccessEnforcer['denySession']>[0][] = [];
  const enforcer: AccessEnforcer = {
    denySession: async (input) => {
      calls.push(input);
      return { alreadyDenied: calls.length > 1 };
    },
  };
  return { calls, enforcer };
};

describe('createRevocationEnforcer', () => {
  const ENFORCED_AT = new Date('2090-01-01T12:00:30.000Z');
  const clock = { now: () => ENFORCED_AT };

  it('denies the session on its role until an hour and the margin after it is enforced (not after its expiry)', async () => {
    // Prepare
    const { calls, enforcer } = recording();
    // Act
    const result = await createRevocationEnforcer({ enforcer, clock })(fixture);
    // Assess: the fixture expires at 13:00; its credentials die an hour after the revocation at the latest.
    expect(calls).toEqual([
      {
        roleArn: 'arn:aws:iam::123456789012:role/sentinel-prod',
        sessionId: '7f3a9c2e5b1d4e8fa0c6b2d9e4f1a3c5',
        until: '2090-01-01T13:05:30.000Z',
      },
    ]);
    expect(result).toEqual({
      sessionId: '7f3a9c2e5b1d4e8fa0c6b2d9e4f1a3c5',
      roleArn: 'arn:aws:iam::123456789012:role/sentinel-prod',
      deniedUntil: '2090-01-01T13:05:30.000Z',
      alreadyDenied: false,
      mode: 'session-tag',
    });
  });

  it('counts from revokedAt when given and later than the enforcer’s clock (a skewed clock never shortens it)', async () => {
    const { calls, enforcer } = recording();
    await createRevocationEnforcer({ enforcer, clock })({
      ...fixture,
      revokedAt: '2090-01-01T12:10:00.000Z',
    });
    expect(calls[0]?.until).toBe('2090-01-01T13:15:00.000Z');
  });

  it('without a clock (a caller on its own time line) keeps the id an hour past the expiry', async () => {
    const { calls, enforcer } = recording();
    await createRevocationEnforcer({ enforcer })(fixture);
    expect(calls[0]?.until).toBe('2090-01-01T14:00:00.000Z');
  });

  it('reports the mode and the cut the enforcer used', async () => {
    const enforcer: AccessEnforcer = {
      denySession: async () => ({
        alreadyDenied: false,
        mode: 'token-issue-time',
        tokenIssuedBefore: '2090-01-01T11:00:00.000Z',
      }),
    };
    expect(await createRevocationEnforcer({ enforcer, clock })(fixture)).toMatchObject({
      mode: 'token-issue-time',
      tokenIssuedBefore: '2090-01-01T11:00:00.000Z',
    });
  });

  it.each([
    ['no object', null],
    ['an array', [fixture]],
    ['a missing sessionId', { ...fixture, sessionId: undefined }],
    ['a sessionId that is not a session id', { ...fixture, sessionId: 'abc' }],
    ['a user ARN for roleArn', { ...fixture, roleArn: 'arn:aws:iam::123456789012:user/bob' }],
    ['a role ARN in no known partition', { ...fixture, roleArn: 'arn:aws-moon:iam::123456789012:role/r' }],
    ['a role name IAM would refuse', { ...fixture, roleArn: 'arn:aws:iam::123456789012:role/a:b' }],
    ['DynamoDB JSON instead of a string', { ...fixture, roleArn: { S: fixture.roleArn } }],
    ['an unreadable revokedAt', { ...fixture, revokedAt: 'yesterday' }],
    ['a local-time expiresAt', { ...fixture, expiresAt: '2090-01-01T13:00:00' }],
    ['an impossible expiresAt', { ...fixture, expiresAt: '2090-13-45T13:00:00Z' }],
  ])('throws InvalidEnforcementInputError for %s, denying nothing', async (_name, input) => {
    const { calls, enforcer } = recording();
    await expect(createRevocationEnforcer({ enforcer })(input)).rejects.toThrow(InvalidEnforcementInputError);
    expect(calls).toEqual([]);
  });
});
