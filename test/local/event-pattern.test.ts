import { describe, expect, it } from 'vitest';
import {
  compileEventPattern,
  InvalidEventPatternError,
  matchesEventPattern,
} from '../../local/event-pattern.js';

// The EC2 example from the EventBridge user guide, extended with the shapes the operators need.
const event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0', 'arn:aws:ec2:other'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'c-count': 5,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'source-ip6': '2001:db8::1',
    FileName: 'photo.PNG',
    FilePath: '/usr/lib/libc.so',
    eventVersion: '',
    responseElements: null,
    enabled: true,
    tags: ['blue', 'green'],
    counts: [1, 7],
    nested: { deep: { value: 'here' } },
    employees: [
      { firstName: 'John', lastName: 'Doe' },
      { firstName: 'Anna', lastName: 'Smith' },
    ],
    empty: [],
  },
};

interface Case {
  readonly name: string;
  readonly pattern: Record<string, unknown>;
  readonly matches: boolean;
}

const cases: Case[] = [
  // exact values, arrays as OR, AND across fields
  { name: 'exact string', pattern: { source: ['aws.ec2'] }, matches: true },
  { name: 'exact string, other value', pattern: { source: ['aws.s3'] }, matches: false },
  { name: 'exact is case-sensitive', pattern: { source: ['AWS.EC2'] }, matches: false },
  { name: 'array is OR', pattern: { source: ['aws.s3', 'aws.ec2'] }, matches: true },
  {
    name: 'fields are AND (one fails)',
    pattern: { source: ['aws.ec2'], 'detail-type': ['Other'] },
    matches: false,
  },
  {
    name: 'fields are AND (all pass)',
    pattern: { source: ['aws.ec2'], detail: { state: ['terminated'] } },
    matches: true,
  },
  { name: 'absent field never matches a value', pattern: { detail: { missing: ['x'] } }, matches: false },
  { name: 'exact number', pattern: { detail: { 'c-count': [5] } }, matches: true },
  { name: 'exact number written 5.0', pattern: { detail: { 'c-count': [5.0] } }, matches: true },
  { name: 'number does not match its string', pattern: { detail: { 'c-count': ['5'] } }, matches: false },
  { name: 'exact boolean', pattern: { detail: { enabled: [true] } }, matches: true },
  { name: 'exact boolean, other', pattern: { detail: { enabled: [false] } }, matches: false },
  // null and empty string are distinct
  { name: 'null matches null', pattern: { detail: { responseElements: [null] } }, matches: true },
  { name: 'null does not match ""', pattern: { detail: { eventVersion: [null] } }, matches: false },
  { name: '"" matches ""', pattern: { detail: { eventVersion: [''] } }, matches: true },
  { name: '"" does not match null', pattern: { detail: { responseElements: [''] } }, matches: false },
  { name: 'null does not match absent', pattern: { detail: { missing: [null] } }, matches: false },
  // nested objects
  { name: 'nested object', pattern: { detail: { nested: { deep: { value: ['here'] } } } }, matches: true },
  {
    name: 'nested object, other',
    pattern: { detail: { nested: { deep: { value: ['x'] } } } },
    matches: false,
  },
  { name: 'values never match an object', pattern: { detail: { nested: ['here'] } }, matches: false },
  // arrays in the event
  { name: 'event array: any element', pattern: { resources: ['arn:aws:ec2:other'] }, matches: true },
  { name: 'event array: no element', pattern: { detail: { tags: ['red'] } }, matches: false },
  { name: 'event array of numbers', pattern: { detail: { counts: [{ numeric: ['>', 6] }] } }, matches: true },
  {
    name: 'array of objects: one element',
    pattern: { detail: { employees: { firstName: ['Anna'], lastName: ['Smith'] } } },
    matches: true,
  },
  {
    name: 'array of objects: fields from two elements do not combine',
    pattern: { detail: { employees: { firstName: ['Anna'], lastName: ['Doe'] } } },
    matches: false,
  },
  // prefix / suffix / equals-ignore-case / wildcard
  { name: 'prefix', pattern: { time: [{ prefix: '2017-12-22' }] }, matches: true },
  { name: 'prefix, other', pattern: { time: [{ prefix: '2018' }] }, matches: false },
  {
    name: 'prefix never matches a number',
    pattern: { detail: { 'c-count': [{ prefix: '5' }] } },
    matches: false,
  },
  {
    name: 'prefix equals-ignore-case',
    pattern: { source: [{ prefix: { 'equals-ignore-case': 'AWS.E' } }] },
    matches: true,
  },
  {
    name: 'prefix equals-ignore-case, other',
    pattern: { source: [{ prefix: { 'equals-ignore-case': 'AWS.S' } }] },
    matches: false,
  },
  { name: 'suffix', pattern: { detail: { FileName: [{ suffix: '.PNG' }] } }, matches: true },
  {
    name: 'suffix is case-sensitive',
    pattern: { detail: { FileName: [{ suffix: '.png' }] } },
    matches: false,
  },
  {
    name: 'suffix equals-ignore-case',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    matches: true,
  },
  {
    name: 'suffix equals-ignore-case, other',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.jpg' } }] } },
    matches: false,
  },
  { name: 'equals-ignore-case', pattern: { source: [{ 'equals-ignore-case': 'AWS.Ec2' }] }, matches: true },
  {
    name: 'equals-ignore-case, other',
    pattern: { source: [{ 'equals-ignore-case': 'aws.ec' }] },
    matches: false,
  },
  { name: 'wildcard', pattern: { detail: { FilePath: [{ wildcard: '*/lib/*' }] } }, matches: true },
  { name: 'wildcard, other', pattern: { detail: { FilePath: [{ wildcard: '*/bin/*' }] } }, matches: false },
  { name: 'wildcard is anchored', pattern: { source: [{ wildcard: 'aws' }] }, matches: false },
  { name: 'wildcard dot is literal', pattern: { source: [{ wildcard: 'aws?ec2' }] }, matches: false },
  { name: 'wildcard escaped star', pattern: { source: [{ wildcard: 'aws.\\*' }] }, matches: false },
  // anything-but
  {
    name: 'anything-but string',
    pattern: { detail: { state: [{ 'anything-but': 'running' }] } },
    matches: true,
  },
  {
    name: 'anything-but string, denied',
    pattern: { detail: { state: [{ 'anything-but': 'terminated' }] } },
    matches: false,
  },
  {
    name: 'anything-but list, denied',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'terminated'] }] } },
    matches: false,
  },
  { name: 'anything-but number', pattern: { detail: { 'c-count': [{ 'anything-but': 6 }] } }, matches: true },
  {
    name: 'anything-but number list, denied',
    pattern: { detail: { 'c-count': [{ 'anything-but': [4, 5] }] } },
    matches: false,
  },
  {
    name: 'anything-but never matches absent',
    pattern: { detail: { missing: [{ 'anything-but': 'x' }] } },
    matches: false,
  },
  {
    name: 'anything-but on an array: another element passes',
    pattern: { detail: { tags: [{ 'anything-but': 'blue' }] } },
    matches: true,
  },
  {
    name: 'anything-but prefix',
    pattern: { region: [{ 'anything-but': { prefix: 'eu-' } }] },
    matches: true,
  },
  {
    name: 'anything-but prefix, denied',
    pattern: { region: [{ 'anything-but': { prefix: 'us-' } }] },
    matches: false,
  },
  {
    name: 'anything-but prefix list, denied',
    pattern: { region: [{ 'anything-but': { prefix: ['eu-', 'us-'] } }] },
    matches: false,
  },
  {
    name: 'anything-but suffix',
    pattern: { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } },
    matches: true,
  },
  {
    name: 'anything-but suffix, denied',
    pattern: { detail: { FileName: [{ 'anything-but': { suffix: '.PNG' } }] } },
    matches: false,
  },
  {
    name: 'anything-but equals-ignore-case, denied',
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['TERMINATED'] } }] } },
    matches: false,
  },
  {
    name: 'anything-but equals-ignore-case',
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'RUNNING' } }] } },
    matches: true,
  },
  {
    name: 'anything-but wildcard, denied',
    pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } },
    matches: false,
  },
  {
    name: 'anything-but wildcard',
    pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: ['*/bin/*', '*.exe'] } }] } },
    matches: true,
  },
  // numeric
  {
    name: 'numeric range',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    matches: true,
  },
  {
    name: 'numeric open top',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<', 5] }] } },
    matches: false,
  },
  { name: 'numeric >=', pattern: { detail: { 'c-count': [{ numeric: ['>=', 5] }] } }, matches: true },
  { name: 'numeric >', pattern: { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, matches: false },
  { name: 'numeric <', pattern: { detail: { 'c-count': [{ numeric: ['<', 10] }] } }, matches: true },
  { name: 'numeric <=', pattern: { detail: { 'c-count': [{ numeric: ['<=', 4] }] } }, matches: false },
  {
    name: 'numeric = (exponent form)',
    pattern: { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    matches: true,
  },
  {
    name: 'numeric = other',
    pattern: { detail: { 'x-limit': [{ numeric: ['=', 301.9] }] } },
    matches: false,
  },
  { name: 'numeric never matches a string', pattern: { time: [{ numeric: ['>', 0] }] }, matches: false },
  // exists
  { name: 'exists true', pattern: { detail: { state: [{ exists: true }] } }, matches: true },
  { name: 'exists true, absent', pattern: { detail: { missing: [{ exists: true }] } }, matches: false },
  {
    name: 'exists true on null',
    pattern: { detail: { responseElements: [{ exists: true }] } },
    matches: true,
  },
  { name: 'exists false, absent', pattern: { detail: { missing: [{ exists: false }] } }, matches: true },
  { name: 'exists false, present', pattern: { detail: { state: [{ exists: false }] } }, matches: false },
  {
    name: 'exists false on an object (not a leaf)',
    pattern: { detail: { nested: [{ exists: false }] } },
    matches: true,
  },
  {
    name: 'exists true on an object (not a leaf)',
    pattern: { detail: { nested: [{ exists: true }] } },
    matches: false,
  },
  {
    name: 'exists false on an empty array',
    pattern: { detail: { empty: [{ exists: false }] } },
    matches: true,
  },
  {
    name: 'exists false below an absent object',
    pattern: { detail: { absentParent: { child: [{ exists: false }] } } },
    matches: true,
  },
  // cidr
  { name: 'cidr v4', pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, matches: true },
  {
    name: 'cidr v4, outside',
    pattern: { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } },
    matches: false,
  },
  { name: 'cidr v6', pattern: { detail: { 'source-ip6': [{ cidr: '2001:db8::/32' }] } }, matches: true },
  {
    name: 'cidr v6, outside',
    pattern: { detail: { 'source-ip6': [{ cidr: '2001:db9::/32' }] } },
    matches: false,
  },
  { name: 'cidr on a non-IP', pattern: { detail: { state: [{ cidr: '10.0.0.0/8' }] } }, matches: false },
  // $or
  {
    name: '$or: second branch',
    pattern: { source: ['aws.ec2'], $or: [{ region: ['eu-west-1'] }, { detail: { state: ['terminated'] } }] },
    matches: true,
  },
  {
    name: '$or: no branch',
    pattern: { $or: [{ region: ['eu-west-1'] }, { detail: { state: ['running'] } }] },
    matches: false,
  },
  {
    name: '$or nested in detail',
    pattern: { detail: { $or: [{ 'c-count': [{ numeric: ['>', 100] }] }, { 'x-limit': [301.8] }] } },
    matches: true,
  },
  {
    name: '$or with an AND inside a branch',
    pattern: { $or: [{ source: ['aws.ec2'], region: ['eu-west-1'] }, { account: ['000000000000'] }] },
    matches: false,
  },
  // combinations
  {
    name: 'several operators on one field (OR)',
    pattern: { detail: { state: [{ prefix: 'run' }, { suffix: 'nated' }] } },
    matches: true,
  },
];

describe('EventBridge event patterns', () => {
  it.each(cases)('$name → $matches', ({ pattern, matches }) => {
    // Prepare
    const compiled = compileEventPattern(pattern);
    // Act
    const result = compiled.matches(event);
    // Assess
    expect(result).toBe(matches);
  });

  it('accepts the JSON text PutRule takes', () => {
    expect(matchesEventPattern(JSON.stringify({ source: ['aws.ec2'] }), event)).toBe(true);
  });

  it('matches nothing that is not an object', () => {
    expect(compileEventPattern({ source: ['aws.ec2'] }).matches('aws.ec2')).toBe(false);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['not an object', ['source'], /filter is not an object/],
    ['not JSON', '{source:', /not JSON/],
    ['empty pattern', {}, /empty objects/],
    ['scalar field', { source: 'aws.ec2' }, /must be an object or an array/],
    ['empty array', { source: [] }, /empty arrays/],
    ['nested array', { source: [['aws.ec2']] }, /match value must be/],
    ['empty nested object', { detail: {} }, /empty objects/],
    ['unknown operator', { source: [{ regex: '.*' }] }, /unrecognized match type regex/],
    ['two operators in one expression', { source: [{ prefix: 'a', suffix: 'b' }] }, /only one key/],
    ['empty match expression', { source: [{}] }, /match expression name not found/],
    ['prefix not a string', { source: [{ prefix: 1 }] }, /prefix match pattern must be a string/],
    ['prefix with unknown modifier', { source: [{ prefix: { other: 'a' } }] }, /unsupported prefix/],
    ['equals-ignore-case not a string', { source: [{ 'equals-ignore-case': 1 }] }, /must be a string/],
    ['consecutive wildcards', { source: [{ wildcard: 'a**b' }] }, /consecutive wildcard/],
    ['bad wildcard escape', { source: [{ wildcard: 'a\\b' }] }, /invalid escape/],
    ['anything-but mixed list', { source: [{ 'anything-but': ['a', 1] }] }, /only strings or only numbers/],
    ['anything-but empty list', { source: [{ 'anything-but': [] }] }, /only strings or only numbers/],
    ['anything-but null', { source: [{ 'anything-but': null }] }, /only strings or only numbers/],
    ['anything-but unknown operator', { source: [{ 'anything-but': { numeric: ['>', 1] } }] }, /unsupported/],
    [
      'anything-but empty prefix',
      { source: [{ 'anything-but': { prefix: '' } }] },
      /empty anything-but\/prefix/,
    ],
    ['anything-but suffix number', { source: [{ 'anything-but': { suffix: 1 } }] }, /must be a string/],
    ['numeric not an array', { n: [{ numeric: '>' }] }, /must be an array/],
    ['numeric bad operator', { n: [{ numeric: ['!=', 1] }] }, /unrecognized numeric range operator/],
    ['numeric string value', { n: [{ numeric: ['>', '1'] }] }, /must be numeric/],
    ['numeric out of range', { n: [{ numeric: ['>', 6e9] }] }, /between -5.0E9 and 5.0E9/],
    ['numeric too precise', { n: [{ numeric: ['>', 0.1234567] }] }, /6 decimal places/],
    ['numeric bottom above top', { n: [{ numeric: ['>', 5, '<', 1] }] }, /bottom must be less than top/],
    ['numeric wrong second operator', { n: [{ numeric: ['>', 1, '>', 5] }] }, /bad numeric range/],
    ['numeric = with extra terms', { n: [{ numeric: ['=', 1, '<', 5] }] }, /too many elements/],
    ['exists not boolean', { n: [{ exists: 'true' }] }, /either true or false/],
    ['cidr malformed', { ip: [{ cidr: '10.0.0/8' }] }, /nonstandard IP/],
    ['cidr prefix too long', { ip: [{ cidr: '10.0.0.0/33' }] }, /nonstandard IP/],
    ['$or not an array', { $or: { a: ['b'] } }, /\$or must be followed by an array/],
    ['$or with one branch', { $or: [{ a: ['b'] }] }, /at least 2 objects/],
    ['$or with a non-object', { $or: [{ a: ['b'] }, 'c'] }, /only JSON objects/],
    ['reserved name inside $or', { $or: [{ numeric: [1] }, { prefix: ['a'] }] }, /reserved name/],
    ['too long', { source: Array.from({ length: 400 }, (_, i) => `source-${i}`) }, /longer than 4096/],
  ];

  it.each(invalid)('refuses %s', (_name, pattern, reason) => {
    // Act
    const attempt = () => compileEventPattern(pattern);
    // Assess
    expect(attempt).toThrow(InvalidEventPatternError);
    expect(attempt).toThrow(reason);
  });

  it('names where the pattern is wrong', () => {
    try {
      compileEventPattern({ detail: { state: [{ prefix: 1 }] } });
      expect.unreachable('the pattern is invalid');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEventPatternError);
      expect((error as InvalidEventPatternError).path).toBe('detail.state');
      expect((error as InvalidEventPatternError).code).toBe('InvalidEventPattern');
    }
  });
});
