import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../local/template.js';
import {
  DETAIL_TYPES,
  type DetailType,
  EVENT_SOURCE,
  revocationNotified,
  SCHEMA_VERSIONS,
  type SessionEvent,
  sessionCreated,
  sessionExpired,
  sessionPurged,
  sessionRevoked,
  sessionStateChanged,
  sessionTouched,
  VEND_ACTIONS,
  vendDenied,
} from '../../../src/domain/events.js';
import { EXPIRED_REASONS, SESSION_STATUSES, type Session } from '../../../src/domain/session.js';

// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose `default` is the plugin.
const addFormats = addFormatsModule.default;

const SCHEMA_DIR = join(REPO_ROOT, 'events', 'schemas');
const BUS_DIR = join(REPO_ROOT, 'events', 'bus');

const readJson = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

const schemaOf = (type: DetailType) => readJson(join(SCHEMA_DIR, `${type}.schema.json`));
const sampleOf = (type: DetailType) => readJson(join(BUS_DIR, `${type}.json`));

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validators = new Map<DetailType, ValidateFunction>(
  DETAIL_TYPES.map((type) => [type, ajv.compile(schemaOf(type))]),
);
const validatorOf = (type: DetailType): ValidateFunction => {
  const validate = validators.get(type);
  if (!validate) throw new Error(`no schema for ${type}`);
  return validate;
};

/** The envelope EventBridge puts around a detail, as a rule target receives it. */
const envelope = (event: SessionEvent) => ({
  version: '0',
  id: '7b2d1c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
  'detail-type': event.detailType,
  source: EVENT_SOURCE,
  account: '123456789012',
  time: '2026-03-02T09:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: event.detail,
});

const at = new Date('2026-03-02T09:00:00.128Z');
const session: Session = {
  sessionId: '0123456789abcdef0123456789abcdef',
  user: 'alice',
  principalArn: 'arn:aws:iam::123456789012:user/alice',
  profile: 'dev',
  roleArn: 'arn:aws:iam::123456789012:role/sentinel-dev',
  sourceIdentity: 'sentinel=alice=direct=req-1',
  status: 'active',
  createdAt: '2026-03-02T09:00:00.128Z',
  lastAccessAt: '2026-03-02T09:00:00.128Z',
  expiresAt: '2026-03-02T10:00:00.128Z',
  maxExpiresAt: '2026-03-02T21:00:00.128Z',
  requestCount: 1,
  version: 1,
  ttl: 1_773_000_000,
};

const access = { rule: 'allow-dev', policyVersion: '1' } as const;

/** A refused create: no session, so sessionId is null. */
const deniedCreate = {
  principalArn: session.principalArn,
  user: session.user,
  profile: 'prod',
  sessionId: null,
  action: 'create',
  rule: 'prod-outside-hours',
  reason: 'prod is vended on weekdays 08:00-18:00 Europe/Berlin only',
  policyVersion: '2026-03-01',
  at,
} as const;

const created = sessionCreated(session, at, access);

/** One event from every builder in src/domain/events.ts. */
const built: Record<DetailType, SessionEvent> = {
  SessionCreated: created,
  SessionTouched: sessionTouched({ ...session, requestCount: 2, version: 2 }, at),
  SessionExpired: sessionExpired(session, 'workflow', at),
  SessionRevoked: sessionRevoked(
    { ...session, revokedAt: at.toISOString(), revokedBy: 'secops-bob', reason: 'lost laptop' },
    at,
  ),
  SessionStateChanged: sessionStateChanged(
    { ...session, status: 'revoked', version: 3 },
    { fromStatus: 'active', streamEventId: 'f1e2d3c4b5a6', at },
  ),
  SessionPurged: sessionPurged({ ...session, status: 'expired' }, { streamEventId: 'a1b2c3', at }),
  RevocationNotified: revocationNotified(session, { channel: 'webhook', delivered: false, at }),
  VendDenied: vendDenied(deniedCreate),
};

interface DetailSchema {
  readonly required: readonly string[];
  readonly properties: Record<string, { readonly enum?: readonly unknown[] }>;
  readonly additionalProperties: boolean;
}
const detailSchemaOf = (type: DetailType): DetailSchema =>
  (schemaOf(type).properties as Record<string, DetailSchema>).detail as DetailSchema;

describe('event contracts (docs/events.md)', () => {
  it('has exactly one schema and one bus sample per detail-type', () => {
    const schemas = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json'));
    const samples = readdirSync(BUS_DIR).filter((f) => f.endsWith('.json'));
    expect(schemas.sort()).toEqual(DETAIL_TYPES.map((t) => `${t}.schema.json`).sort());
    expect(samples.sort()).toEqual(DETAIL_TYPES.map((t) => `${t}.json`).sort());
  });

  it.each(DETAIL_TYPES)('the %s sample validates against its schema', (type) => {
    // Prepare
    const validate = validatorOf(type);
    // Act
    const valid = validate(sampleOf(type));
    // Assess
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it.each(DETAIL_TYPES)('the %s builder produces a detail its schema accepts', (type) => {
    const event = built[type];
    expect(event.detailType).toBe(type);
    const validate = validatorOf(type);
    const valid = validate(envelope(event));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it.each(DETAIL_TYPES)('the %s schema requires exactly the fields its builder writes', (type) => {
    // With additionalProperties false this pins both directions: a field added to the builder without the
    // schema fails the previous test; a field dropped from the builder fails here.
    const detail = detailSchemaOf(type);
    expect(detail.additionalProperties).toBe(false);
    expect([...detail.required].sort()).toEqual(Object.keys(built[type].detail).sort());
  });

  it.each(DETAIL_TYPES.map((type) => [type, SCHEMA_VERSIONS[type]] as const))(
    'the %s sample carries the common fields and schemaVersion %s',
    (type, version) => {
      const sample = sampleOf(type);
      expect(sample.source).toBe(EVENT_SOURCE);
      expect(sample['detail-type']).toBe(type);
      expect(sample.detail).toMatchObject({ schemaVersion: version });
      expect(Object.keys(sample.detail as object)).toEqual(
        expect.arrayContaining(['schemaVersion', 'sessionId', 'user', 'profile', 'occurredAt']),
      );
    },
  );

  it.each(DETAIL_TYPES)('the %s schema is the one for its schemaVersion', (type) => {
    const schema = schemaOf(type);
    const version = SCHEMA_VERSIONS[type];
    expect(built[type].detail.schemaVersion).toBe(version);
    expect(schema.$id).toBe(`urn:sentinel-sessions:events:${type}:${version}`);
    expect(schema.title).toBe(`${type} (schemaVersion ${version})`);
    expect((detailSchemaOf(type).properties.schemaVersion as { readonly const?: unknown }).const).toBe(
      version,
    );
  });

  it.each(DETAIL_TYPES)('a sample of another type fails the %s schema', (type) => {
    const validate = validatorOf(type);
    for (const other of DETAIL_TYPES.filter((t) => t !== type)) {
      expect(validate(sampleOf(other)), `${other} sample against ${type} schema`).toBe(false);
    }
  });

  it('refuses a detail with an unknown field, a bad session id, a wrong schemaVersion or a bad date', () => {
    const validate = validatorOf('SessionRevoked');
    const sample = sampleOf('SessionRevoked');
    const detail = sample.detail as Record<string, unknown>;
    const variants = [
      { ...detail, extra: 'x' },
      { ...detail, sessionId: '3F2A9C4E8B7D4E1FA06C5B2D9E8F7A61' },
      { ...detail, sessionId: '3f2a9c4e' },
      { ...detail, schemaVersion: '2' },
      { ...detail, occurredAt: '2026-03-02 09:52' },
    ];
    for (const variant of variants) {
      expect(validate({ ...sample, detail: variant }), JSON.stringify(variant)).toBe(false);
    }
    const { revokedBy: _dropped, ...missing } = detail;
    expect(validate({ ...sample, detail: missing })).toBe(false);
    expect(validate({ ...sample, source: 'someone.else' })).toBe(false);
  });

  it('SessionCreated 2 carries the rule and policy version that allowed it; a version 1 detail fails it', () => {
    const validate = validatorOf('SessionCreated');
    const event = envelope(created);
    expect(created.detail).toMatchObject({ schemaVersion: '2', accessRule: 'allow-dev', policyVersion: '1' });
    const { accessRule: _rule, policyVersion: _version, ...withoutAccess } = created.detail;
    const variants = [
      withoutAccess,
      { ...withoutAccess, schemaVersion: '1' }, // a version 1 detail
      { ...created.detail, schemaVersion: '1' },
      { ...created.detail, policyVersion: 1 },
      { ...created.detail, accessRule: '' },
    ];
    for (const detail of variants) {
      expect(validate({ ...event, detail }), JSON.stringify(detail)).toBe(false);
    }
  });

  it('accepts a canonical <role>/<session> user in SessionCreated and VendDenied', () => {
    const user = 'ci-deployer/build-42';
    const created = sessionCreated({ ...session, user }, at, access);
    const denied = vendDenied({ ...deniedCreate, user });
    for (const event of [created, denied] as SessionEvent[]) {
      const validate = validatorOf(event.detailType);
      expect(validate(envelope(event)), event.detailType).toBe(true);
    }
  });

  it('builds VendDenied for a refused refresh, a default deny and a missing policy', () => {
    const validate = validatorOf('VendDenied');
    const variants = [
      vendDenied({ ...deniedCreate, action: 'refresh', sessionId: session.sessionId }),
      vendDenied({ ...deniedCreate, rule: null, reason: 'no rule matched: denied by default' }),
      vendDenied({ ...deniedCreate, rule: null, reason: 'no valid access policy', policyVersion: null }),
    ];
    for (const event of variants) {
      expect(validate(envelope(event)), JSON.stringify(event.detail)).toBe(true);
      expect(validate.errors ?? []).toEqual([]);
    }
    expect(variants[0]?.detail).toMatchObject({ action: 'refresh', sessionId: session.sessionId });
    expect(built.VendDenied.detail).toMatchObject({ sessionId: null, action: 'create' });
  });

  it('refuses a VendDenied with an unknown action, a bad session id, an empty rule or a missing field', () => {
    const validate = validatorOf('VendDenied');
    const sample = sampleOf('VendDenied');
    const detail = sample.detail as Record<string, unknown>;
    const variants = [
      { ...detail, action: 'revoke' },
      { ...detail, sessionId: '3f2a9c4e' },
      { ...detail, sessionId: '' },
      { ...detail, rule: '' },
      { ...detail, policyVersion: 42 },
      { ...detail, schemaVersion: '2' },
      { ...detail, accessRule: 'dev-carol-suspended' },
    ];
    for (const variant of variants) {
      expect(validate({ ...sample, detail: variant }), JSON.stringify(variant)).toBe(false);
    }
    for (const field of ['sessionId', 'rule', 'policyVersion', 'reason']) {
      const { [field]: _dropped, ...missing } = detail;
      expect(validate({ ...sample, detail: missing }), `without ${field}`).toBe(false);
    }
  });

  it('keeps schema enums in step with the domain', () => {
    expect(detailSchemaOf('VendDenied').properties.action?.enum).toEqual([...VEND_ACTIONS]);
    expect(detailSchemaOf('SessionExpired').properties.reason?.enum).toEqual([...EXPIRED_REASONS]);
    expect(detailSchemaOf('SessionStateChanged').properties.toStatus?.enum).toEqual([...SESSION_STATUSES]);
    expect(detailSchemaOf('SessionStateChanged').properties.fromStatus?.enum).toEqual([
      ...SESSION_STATUSES,
      null,
    ]);
    expect(detailSchemaOf('SessionPurged').properties.finalStatus?.enum).toEqual([...SESSION_STATUSES]);
  });

  it('names no credential-like field in any schema or sample', () => {
    const secretLike = /^(accesskeyid|secretaccesskey|token|sessiontoken|credentials?|password|secret)$/i;
    const keysOf = (value: unknown, out: string[] = []): string[] => {
      if (Array.isArray(value)) for (const v of value) keysOf(v, out);
      else if (typeof value === 'object' && value !== null) {
        for (const [k, v] of Object.entries(value)) {
          out.push(k);
          keysOf(v, out);
        }
      }
      return out;
    };
    for (const type of DETAIL_TYPES) {
      const offending = [...keysOf(schemaOf(type)), ...keysOf(sampleOf(type))].filter((k) =>
        secretLike.test(k),
      );
      expect(offending, type).toEqual([]);
      expect(JSON.stringify(schemaOf(type))).not.toMatch(/AccessKeyId|SecretAccessKey|SessionToken/);
    }
  });
});
