/** Who may see and end which session, and what a revocation reason and a canonical user may be. */
import { describe, expect, it } from 'vitest';
import {
  accessTo,
  isCanonicalUser,
  type Operator,
  revokeReasonProblem,
} from '../../../src/domain/operators.js';
import { ALICE_ARN, BOB_ARN, caller } from '../../support/operator-api.js';

const as = (arn: string, role: Operator['role']): Operator => ({ caller: caller(arn), role });
const alices = { principalArn: ALICE_ARN };

describe('accessTo', () => {
  it.each([
    ['the owner', as(ALICE_ARN, 'owner-only'), alices, 'granted'],
    ['the owner without a policy', as(ALICE_ARN, 'unknown'), alices, 'granted'],
    ['an admin', as(BOB_ARN, 'admin'), alices, 'granted'],
    ['an admin, no such session', as(BOB_ARN, 'admin'), undefined, 'granted'],
    ['another user', as(BOB_ARN, 'owner-only'), alices, 'hidden'],
    ['another user, no such session', as(BOB_ARN, 'owner-only'), undefined, 'hidden'],
    ['anyone without a policy, someone else’s', as(BOB_ARN, 'unknown'), alices, 'undecidable'],
    ['anyone without a policy, no such session', as(BOB_ARN, 'unknown'), undefined, 'undecidable'],
  ] as const)('%s → %s', (_name, operator, session, expected) => {
    expect(accessTo(operator, session)).toBe(expected);
  });

  it('owns by principal ARN, not by a name another principal could take', () => {
    // Same session name under another role: the same-looking name is not the owner.
    const lookalike = 'arn:aws:sts::111122223333:assumed-role/ci-runner/alice@example.com';
    expect(accessTo(as(lookalike, 'owner-only'), alices)).toBe('hidden');
  });
});

describe('revokeReasonProblem', () => {
  it.each([
    ['laptop lost', undefined],
    ['ü'.repeat(256), undefined],
    [undefined, /required/],
    [42, /string/],
    ['   ', /blank/],
    ['x'.repeat(257), /at most 256/],
    ['line\nbreak', /control/],
    ['bell\u0007', /control/],
    ['right-to-left \u202Eevil', /format/],
    ['zero\u200Bwidth', /format/],
    ['line\u2028separator', /separator/],
    ['lone \uD800 surrogate', /control/],
    ['emoji 🔒 are text', undefined],
  ])('%j → %s', (reason, problem) => {
    const found = revokeReasonProblem(reason);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});

describe('isCanonicalUser', () => {
  it.each([
    ['alice', true],
    ['alice@example.com', true],
    ['deploy/ci-42', true],
    ['a/b/c', false],
    ['', false],
    ['x'.repeat(65), false],
    ['alice smith', false],
    ['role/', false],
  ])('%j → %s', (user, expected) => {
    expect(isCanonicalUser(user)).toBe(expected);
  });
});
