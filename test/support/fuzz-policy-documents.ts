/**
 * fast-check arbitraries of access policy documents for the fuzz suite (test/reliability/fuzz.test.ts): a
 * valid document and single edits that each make it invalid (so the property knows the answer), and hostile
 * text: JSON, YAML-only tricks (tags, anchors, merge keys, duplicate keys), deep nesting.
 */
import fc from 'fast-check';
import {
  deeplyNested,
  hostileString,
  hugeString,
  jsonText,
  malformedJsonText,
  PROTO_KEYS,
} from './fuzz-arbitraries.js';

const VALID_POLICY = {
  version: 7,
  admins: ['arn:aws:sts::*:assumed-role/AWSReservedSSO_Admin_*/*'],
  identityRoles: ['corp-sso-*'],
  rules: [
    {
      name: 'carol-suspended',
      effect: 'deny',
      users: ['carol'],
      accounts: ['111122223333'],
      reason: 'review',
    },
    {
      name: 'prod-working-hours',
      effect: 'allow',
      profiles: ['prod'],
      principals: ['arn:aws:sts::*:assumed-role/AWSReservedSSO_Admin_*/*'],
      accounts: ['111122223333'],
      organizations: ['o-abc123def4'],
      time: { days: ['mon', 'tue'], hours: '08:00-18:00', timezone: 'Europe/Berlin' },
      maxLifetimeSeconds: 3600,
    },
    { name: 'dev', effect: 'allow', profiles: ['dev*'] },
  ],
};

type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = { [key: string]: Json };
export type Breaker = readonly [name: string, edit: (doc: JsonObject) => void];
export const clone = (): JsonObject => structuredClone(VALID_POLICY) as unknown as JsonObject;
const ruleOf = (doc: JsonObject, i: number): JsonObject => (doc.rules as JsonObject[])[i] as JsonObject;
const timeOf = (doc: JsonObject): JsonObject => ruleOf(doc, 1).time as JsonObject;
/** An edit setting `key` to `value` in the object `at` picks out of the document. */
const setIn =
  (at: (doc: JsonObject) => JsonObject, key: string, value: Json) =>
  (doc: JsonObject): void => {
    at(doc)[key] = value;
  };

/** One edit that makes the valid document invalid, at some level; each must be refused naming a problem. */
export const policyBreakers: fc.Arbitrary<Breaker> = fc.oneof(
  fc.tuple(fc.constantFrom(...PROTO_KEYS, 'Rules', 'admin', 'extends'), fc.integer({ min: -1, max: 2 })).map(
    ([key, level]): Breaker => [
      `unknown key ${key} at level ${level}`,
      (doc) => {
        const target = level === -1 ? doc : level === 2 ? timeOf(doc) : ruleOf(doc, level);
        Object.defineProperty(target, key, {
          value: { polluted: true },
          enumerable: true,
          writable: true,
          configurable: true,
        });
      },
    ],
  ),
  fc
    .tuple(
      fc.constantFrom('version', 'admins', 'rules', 'identityRoles'),
      jsonText.map((t) => JSON.parse(t) as Json),
    )
    .filter(([key, value]) =>
      key === 'rules'
        ? !Array.isArray(value) || value.length > 0
        : key === 'version'
          ? typeof value !== 'number' && typeof value !== 'string'
          : !Array.isArray(value),
    )
    .map(
      ([key, value]): Breaker => [
        `${key} of another type`,
        (doc) => {
          doc[key] = value;
        },
      ],
    ),
  fc.constantFrom<Breaker>(
    ['no rules', (doc) => void delete doc.rules],
    ['no version', (doc) => void delete doc.version],
    ['duplicate rule names', setIn((doc) => ruleOf(doc, 1), 'name', 'carol-suspended')],
    ['effect maybe', setIn((doc) => ruleOf(doc, 0), 'effect', 'maybe')],
    ['effect in capitals', setIn((doc) => ruleOf(doc, 0), 'effect', 'ALLOW')],
    ['empty users', setIn((doc) => ruleOf(doc, 0), 'users', [])],
    ['hours reversed into nothing', setIn(timeOf, 'hours', '08:00-08:00')],
    ['hours 25:00', setIn(timeOf, 'hours', '08:00-25:00')],
    ['unknown time zone', setIn(timeOf, 'timezone', 'Mars/Olympus')],
    ['a day twice', setIn(timeOf, 'days', ['mon', 'mon'])],
    ['account of 11 digits', setIn((doc) => ruleOf(doc, 1), 'accounts', ['11112222333'])],
    ['organization malformed', setIn((doc) => ruleOf(doc, 1), 'organizations', ['o-../x'])],
    ['lifetime negative', setIn((doc) => ruleOf(doc, 1), 'maxLifetimeSeconds', -1)],
    ['lifetime 1e400', setIn((doc) => ruleOf(doc, 1), 'maxLifetimeSeconds', Number.POSITIVE_INFINITY)],
    ['principal glob not an ARN', setIn((doc) => ruleOf(doc, 1), 'principals', ['alice'])],
  ),
  fc
    .tuple(fc.constantFrom('profiles', 'users', 'principals', 'admins', 'identityRoles'), hostileString(80))
    .filter(([, glob]) => !/^[\w+=,.@:/*?-]+$/.test(glob) || glob.length > 64)
    .map(
      ([key, glob]): Breaker => [
        `${key} glob ${JSON.stringify(glob.slice(0, 20))}`,
        (doc) => {
          if (key === 'admins' || key === 'identityRoles') doc[key] = [glob];
          else ruleOf(doc, 2)[key] = [glob];
        },
      ],
    ),
);

/** Text documents: hostile JSON, YAML-only tricks, deep nesting, and the valid document with one breaker. */
export const policyTexts = fc.oneof(
  jsonText,
  malformedJsonText,
  deeplyNested,
  hugeString,
  fc.integer({ min: 40, max: 4_000 }).map((n) => `${'- '.repeat(n)}x`),
  fc
    .integer({ min: 40, max: 4_000 })
    .map((n) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n')),
  fc.constantFrom(
    'a: &a [1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'version: !!js/function "function(){}"\nadmins: []\nrules: []',
    'version: 1\nversion: 2\nadmins: []\nrules: [{name: a, effect: allow}]',
    '<<: {version: 1}\nadmins: []\nrules: [{name: a, effect: allow}]',
    'version: !!binary aGVsbG8=\nadmins: []\nrules: [{name: a, effect: allow}]',
    '%YAML 1.1\n---\nversion: 1\nadmins: []\nrules: [{name: a, effect: yes}]',
    '---\nversion: 1\n---\nversion: 2',
    'version: 1\nadmins: []\nrules:\n  - {name: a, effect: allow, __proto__: {polluted: true}}',
    '__proto__: {polluted: true}\nversion: 1\nadmins: []\nrules: [{name: a, effect: allow}]',
    '{"__proto__":{"polluted":true},"version":1,"admins":[],"rules":[{"name":"a","effect":"allow"}]}',
    '\uFEFFversion: 1\nadmins: []\nrules: [{name: a, effect: allow}]',
    'version: 1\u0000\nadmins: []\nrules: [{name: a, effect: allow}]',
  ),
  policyBreakers.map(([, breaker]) => {
    const doc = clone();
    breaker(doc);
    return JSON.stringify(doc);
  }),
);
