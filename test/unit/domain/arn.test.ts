import { describe, expect, it } from 'vitest';
import { isRoleArn, parseRoleArn } from '../../../src/domain/arn.js';

describe('parseRoleArn', () => {
  it.each([
    ['arn:aws:iam::123456789012:role/dev', { partition: 'aws', path: '/', roleName: 'dev' }],
    [
      'arn:aws:iam::123456789012:role/sentinel/team-a/dev-access',
      { partition: 'aws', path: '/sentinel/team-a/', roleName: 'dev-access' },
    ],
    [
      'arn:aws-cn:iam::123456789012:role/a+b=c,d.e@f-g_h',
      { partition: 'aws-cn', roleName: 'a+b=c,d.e@f-g_h' },
    ],
    ['arn:aws-us-gov:iam::123456789012:role/gov', { partition: 'aws-us-gov', roleName: 'gov' }],
    ['arn:aws-iso:iam::123456789012:role/iso', { partition: 'aws-iso', roleName: 'iso' }],
    ['arn:aws-iso-b:iam::123456789012:role/isob', { partition: 'aws-iso-b', roleName: 'isob' }],
    ['arn:aws-iso-e:iam::123456789012:role/isoe', { partition: 'aws-iso-e', roleName: 'isoe' }],
    ['arn:aws-iso-f:iam::123456789012:role/isof', { partition: 'aws-iso-f', roleName: 'isof' }],
    ['arn:aws-eusc:iam::123456789012:role/eusc', { partition: 'aws-eusc', roleName: 'eusc' }],
    [`arn:aws:iam::123456789012:role/${'r'.repeat(64)}`, { roleName: 'r'.repeat(64) }],
  ])('reads %s', (arn, expected) => {
    expect(parseRoleArn(arn)).toMatchObject({ accountId: '123456789012', ...expected });
    expect(isRoleArn(arn)).toBe(true);
  });

  it.each([
    ['not a string', 42],
    ['empty', ''],
    ['a user', 'arn:aws:iam::123456789012:user/alice'],
    ['an assumed role', 'arn:aws:sts::123456789012:assumed-role/dev/alice'],
    ['a short account', 'arn:aws:iam::12345678901:role/dev'],
    ['a region', 'arn:aws:iam:eu-west-1:123456789012:role/dev'],
    ['an unknown partition', 'arn:aws-moon:iam::123456789012:role/dev'],
    ['a partition in upper case', 'arn:AWS-ISO:iam::123456789012:role/dev'],
    ['a name over 64 characters', `arn:aws:iam::123456789012:role/${'r'.repeat(65)}`],
    ['a name with a colon', 'arn:aws:iam::123456789012:role/dev:x'],
    ['an empty name', 'arn:aws:iam::123456789012:role/team/'],
    ['a path over 512 characters', `arn:aws:iam::123456789012:role/${'p'.repeat(511)}/dev`],
    ['a trailing newline', 'arn:aws:iam::123456789012:role/dev\n'],
  ])('refuses %s', (_label, value) => {
    expect(parseRoleArn(value)).toBeUndefined();
    expect(isRoleArn(value)).toBe(false);
  });
});
