/**
 * The vend API against DynamoDB Local (tables built from template.yaml): the real session store and
 * Powertools idempotency on the real IdempotencyTable. STS is the offline issuer (it cannot run locally).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../local/manual-clock.js';
import { OfflineCredentialIssuer } from '../../local/offline-credential-issuer.js';
import { buildHandler } from '../../scripts/build.js';
import { CachedPolicySource } from '../../src/adapters/access-policy-source.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { parsePolicyDocument } from '../../src/domain/access-policy-yaml.js';
import { systemClock } from '../../src/domain/clock.js';
import { randomIds } from '../../src/domain/ids.js';
import type { HttpApiEvent } from '../../src/handlers/http/event.js';
import { createVendApi, IDEMPOTENCY_TTL_SECONDS } from '../../src/handlers/http/vend-api.js';
import { IssuerDeniedError } from '../../src/ports.js';
import { parseProfiles } from '../../src/usecases/vend-profiles.js';
import { silentTelemetry } from '../../src/usecases/vend-telemetry.js';
import { useLocalTables } from '../support/local-tables.js';
import { RecordingPublisher } from '../support/recording-publisher.js';
import {
  FixedPolicySource,
  fixture,
  lambdaContext,
  OTHER_ARN,
  refreshOf,
  withBody,
  withCaller,
} from '../support/vend-api.js';

const tables = useLocalTables();

const PROFILES = parseProfiles({
  dev: {
    roleArn: 'arn:aws:iam::444455556666:role/dev',
    maxDurationSeconds: 3600,
    idleTimeoutSeconds: 3600,
    maxLifetimeSeconds: 28_800,
  },
});

const body = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown>;
const withKey = (event: HttpApiEvent, key: string): HttpApiEvent => ({
  ...event,
  headers: { ...event.headers, 'idempotency-key': key },
});

let vend: ReturnType<typeof createVendApi>;
const api = (event: HttpApiEvent) => vend(event, lambdaContext('integration'));
let store: DynamoDbSessionStore;
let publisher: RecordingPublisher;
let issued = 0;

const scan = async (tableName: string) =>
  (await tables.documentClient.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ??
  [];

beforeAll(() => {
  store = new DynamoDbSessionStore({
    documentClient: tables.documentClient,
    tableName: tables.names.SessionsTable,
  });
  publisher = new RecordingPublisher();
  const offline = new OfflineCredentialIssuer({ warn: () => undefined });
  vend = createVendApi({
    store,
    issuer: {
      issue: (request) => {
        issued += 1;
        return offline.issue(request);
      },
    },
    publisher,
    clock: systemClock,
    ids: randomIds,
    profiles: PROFILES,
    storeFailure: 'deny',
    policy: new FixedPolicySource(),
    telemetry: { ...silentTelemetry, correlate: () => undefined },
    idempotency: {
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: tables.names.IdempotencyTable,
        awsSdkV3Client: tables.client,
      }),
    },
  });
});

describe('vend on DynamoDB Local', () => {
  it('creates, refreshes, and after revocation refuses', async () => {
    const created = await api(fixture('create'));
    expect(created.statusCode).toBe(201);
    const { sessionId } = body(created) as { sessionId: string };

    const refreshed = await api(refreshOf(sessionId));
    expect(refreshed.statusCode).toBe(200);
    expect(await store.get(sessionId)).toMatchObject({ status: 'active', requestCount: 2 });

    await store.revoke(sessionId, { by: 'security', reason: 'test', now: new Date() });
    const refused = await api(refreshOf(sessionId));
    expect([refused.statusCode, body(refused).code]).toEqual([403, 'SessionRevoked']);
  });

  it('a create retried with the same Idempotency-Key answers the same session with fresh credentials, never a second session', async () => {
    // Prepare
    const event = withKey(fixture('create'), 'retry-key-0001');
    const rowsBefore = (await scan(tables.names.SessionsTable)).length;
    const issuedBefore = issued;

    // Act
    const first = await api(event);
    const second = await api(event);

    // Assess: the replay goes through the refresh path: same session, newly issued credentials.
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(body(second).sessionId).toBe(body(first).sessionId);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect((await scan(tables.names.SessionsTable)).length).toBe(rowsBefore + 1);
    expect(issued).toBe(issuedBefore + 2);
    const sessionId = body(first).sessionId;
    expect(
      publisher.events.filter((e) => e.detailType === 'SessionCreated' && e.detail.sessionId === sessionId),
    ).toHaveLength(1);
  });

  it('keeps no credential at rest: the idempotency records hold the session id and expiry, never a secret', async () => {
    const answers = await Promise.all(
      ['rest-key-0001', 'rest-key-0002', 'rest-key-0003'].map((key) => api(withKey(fixture('create'), key))),
    );
    const secrets = answers.flatMap((answer) => {
      const { credentials } = body(answer) as { credentials: Record<string, string> };
      return [credentials.SecretAccessKey, credentials.Token, credentials.AccessKeyId];
    });

    const table = JSON.stringify(await scan(tables.names.IdempotencyTable));

    expect(secrets).toHaveLength(9);
    for (const secret of secrets) expect(table).not.toContain(secret);
    expect(table).not.toMatch(/SecretAccessKey|SessionToken|"Token"|OFFLINE-FAKE/);
    for (const answer of answers) expect(table).toContain(String(body(answer).sessionId));
  });

  it('a replay of a revoked session answers its status, never credentials', async () => {
    const event = withKey(fixture('create'), 'revoked-key-0001');
    const first = await api(event);
    await store.revoke(String(body(first).sessionId), { by: 'security', reason: 'test', now: new Date() });

    const replay = await api(event);

    expect([replay.statusCode, body(replay).code]).toEqual([403, 'SessionRevoked']);
    expect(replay.body).not.toContain('credentials');
  });

  it('keeps the record only for the short replay window', async () => {
    const before = Math.floor(Date.now() / 1000);
    await api(withKey(fixture('create'), 'retry-key-ttl-0001'));

    const records = await scan(tables.names.IdempotencyTable);

    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      // +1: Powertools rounds the expiry up to the next second.
      expect(record.expiration).toBeLessThanOrEqual(
        Math.floor(Date.now() / 1000) + IDEMPOTENCY_TTL_SECONDS + 1,
      );
      expect(record.expiration).toBeGreaterThanOrEqual(before + IDEMPOTENCY_TTL_SECONDS - 5);
      // The key is stored hashed: the client's key never appears in the table.
      expect(JSON.stringify(record.id)).not.toContain('retry-key');
    }
  });

  it('the same key with a different body is refused with 422 IdempotencyKeyReused, writing nothing', async () => {
    const key = 'retry-key-0002';
    const first = await api(withKey(fixture('create'), key));
    const rows = (await scan(tables.names.SessionsTable)).length;

    const second = await api(
      withKey(withBody(fixture('create'), '{"profile":"dev","durationSeconds":900}'), key),
    );

    expect(first.statusCode).toBe(201);
    expect([second.statusCode, body(second).code]).toEqual([422, 'IdempotencyKeyReused']);
    expect(JSON.stringify(body(second))).not.toContain('Secret');
    expect((await scan(tables.names.SessionsTable)).length).toBe(rows);
  });

  it("another principal replaying someone's Idempotency-Key gets its own session, never theirs", async () => {
    const key = 'shared-key-0003';
    const alice = await api(withKey(fixture('create'), key));

    const bob = await api(withKey(withCaller(fixture('create'), OTHER_ARN), key));

    expect([alice.statusCode, bob.statusCode]).toEqual([201, 201]);
    expect(body(bob).sessionId).not.toBe(body(alice).sessionId);
    expect(body(bob).credentials).not.toEqual(body(alice).credentials);
    expect(bob.headers['idempotent-replayed']).toBeUndefined();
    expect(await store.get(String(body(bob).sessionId))).toMatchObject({ user: 'bob@example.com' });
  });

  it('does not replay the credentials of a session revoked since', async () => {
    const event = withKey(fixture('create'), 'retry-key-0004');
    const first = await api(event);
    await store.revoke(String(body(first).sessionId), { by: 'security', reason: 'test', now: new Date() });

    const replay = await api(event);

    expect([replay.statusCode, body(replay).code]).toEqual([403, 'SessionRevoked']);
    expect(replay.body).not.toContain('SecretAccessKey');
  });

  it('a refused create leaves no idempotency record, so the key stays usable', async () => {
    const key = 'retry-key-0005';
    const before = (await scan(tables.names.IdempotencyTable)).length;

    const refused = await api(withKey(withBody(fixture('create'), '{"profile":"admin"}'), key));
    const after = (await scan(tables.names.IdempotencyTable)).length;
    const accepted = await api(withKey(fixture('create'), key));

    expect(refused.statusCode).toBe(403);
    expect(after).toBe(before);
    expect(accepted.statusCode).toBe(201);
  });
});

describe('vend on DynamoDB Local: rows that must not stay active', () => {
  const apiWith = (overrides: Partial<Parameters<typeof createVendApi>[0]>) =>
    createVendApi({
      store,
      issuer: new OfflineCredentialIssuer({ warn: () => undefined }),
      publisher,
      clock: systemClock,
      ids: randomIds,
      profiles: PROFILES,
      storeFailure: 'deny',
      policy: new FixedPolicySource(),
      telemetry: { ...silentTelemetry, correlate: () => undefined },
      ...overrides,
    });

  it('an AssumeRole failure after the put force-expires the row and announces nothing', async () => {
    // Prepare
    const failing = apiWith({
      issuer: {
        issue: async () => {
          throw new IssuerDeniedError('AssumeRole failed: AccessDenied');
        },
      },
    });
    const rowsBefore = new Set((await scan(tables.names.SessionsTable)).map((row) => row.sessionId));
    const eventsBefore = publisher.events.length;

    // Act
    const response = await failing(fixture('create'), lambdaContext('integration-sts-fails'));

    // Assess
    expect([response.statusCode, body(response).code]).toEqual([502, 'CredentialIssuerDenied']);
    const added = (await scan(tables.names.SessionsTable)).filter((row) => !rowsBefore.has(row.sessionId));
    expect(added.map((row) => [row.status, row.expiredReason, row.activeShard])).toEqual([
      ['expired', 'forced', undefined],
    ]);
    expect(publisher.events.length).toBe(eventsBefore);
  });

  it('a refresh under a profile now mapped to another role is refused before the touch', async () => {
    // Prepare
    const created = await api(fixture('create'));
    const { sessionId } = body(created) as { sessionId: string };
    const moved = apiWith({
      profiles: parseProfiles({
        dev: {
          roleArn: 'arn:aws:iam::444455556666:role/dev-v2',
          maxDurationSeconds: 3600,
          idleTimeoutSeconds: 3600,
          maxLifetimeSeconds: 28_800,
        },
      }),
    });
    const before = await store.get(sessionId);

    // Act
    const refused = await moved(refreshOf(sessionId), lambdaContext('integration-profile-moved'));

    // Assess
    expect([refused.statusCode, body(refused).code]).toEqual([403, 'ProfileChanged']);
    expect(await store.get(sessionId)).toEqual(before);
  });
});

/**
 * The bundle `sam build` deploys (scripts/build.ts, with its aliases), run in its own node process against
 * DynamoDB Local, and a stand-in HTTP endpoint for STS and EventBridge: it must sign with the environment's
 * credentials, talk to every service and answer like the source does.
 */
describe('the built vend bundle', () => {
  const bodyText = (request: IncomingMessage): Promise<string> =>
    new Promise((resolve) => {
      let text = '';
      request.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      request.on('end', () => resolve(text));
    });

  it('creates a session end to end: policy from SSM, AssumeRole with the session tag, row in the table, SessionCreated sent', async () => {
    // Prepare: STS (query protocol, XML) and EventBridge (JSON) answered by one local server.
    const seen: { sts: string[]; events: string[]; ssm: string[] } = { sts: [], events: [], ssm: [] };
    const server = createServer(async (request, response) => {
      const text = await bodyText(request);
      if (String(request.headers['x-amz-target'] ?? '') === 'AmazonSSM.GetParameter') {
        seen.ssm.push(text);
        const policy = { version: 'bundle-1', admins: [], rules: [{ name: 'allow-dev', effect: 'allow' }] };
        response.setHeader('content-type', 'application/x-amz-json-1.1');
        response.end(
          JSON.stringify({ Parameter: { Name: '/sentinel/policy', Value: JSON.stringify(policy) } }),
        );
        return;
      }
      if (String(request.headers['x-amz-target'] ?? '').startsWith('AWSEvents.')) {
        seen.events.push(text);
        response.setHeader('content-type', 'application/x-amz-json-1.1');
        response.end(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] }));
        return;
      }
      seen.sts.push(text);
      // As STS does: the credentials end DurationSeconds after they are issued.
      const seconds = Number(new URLSearchParams(text).get('DurationSeconds'));
      const expiration = new Date(Date.now() + seconds * 1000).toISOString();
      response.setHeader('content-type', 'text/xml');
      response.end(
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>' +
          '<AccessKeyId>ASIALOCALSTANDIN0001</AccessKeyId><SecretAccessKey>stand-in-secret</SecretAccessKey>' +
          `<SessionToken>stand-in-token</SessionToken><Expiration>${expiration}</Expiration>` +
          '</Credentials><AssumedRoleUser><AssumedRoleId>AROALOCAL:s</AssumedRoleId>' +
          '<Arn>arn:aws:sts::444455556666:assumed-role/dev/s</Arn></AssumedRoleUser></AssumeRoleResult>' +
          '<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></AssumeRoleResponse>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const standIn = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = mkdtempSync(join(tmpdir(), 'vend-bundle-'));
    try {
      await buildHandler({ entry: 'vend', outdir: dir });
      const env = {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'LOCALFAKEKEY',
        AWS_SECRET_ACCESS_KEY: 'local-fake-secret',
        AWS_SESSION_TOKEN: 'local-fake-token',
        AWS_ENDPOINT_URL_DYNAMODB: tables.endpoint,
        AWS_ENDPOINT_URL_STS: standIn,
        AWS_ENDPOINT_URL_EVENTBRIDGE: standIn,
        AWS_ENDPOINT_URL_SSM: standIn,
        ACCESS_POLICY_PARAMETER: '/sentinel/policy',
        AWS_LAMBDA_FUNCTION_NAME: 'vend-bundle-test',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
        SESSIONS_TABLE_NAME: tables.names.SessionsTable,
        IDEMPOTENCY_TABLE_NAME: tables.names.IdempotencyTable,
        EVENT_BUS_NAME: 'local-bus',
        PROFILES: JSON.stringify({
          dev: {
            roleArn: 'arn:aws:iam::444455556666:role/dev',
            maxDurationSeconds: 3600,
            idleTimeoutSeconds: 3600,
            maxLifetimeSeconds: 28_800,
          },
        }),
      };
      const script = `const { handler } = await import(${JSON.stringify(join(dir, 'vend.mjs'))});
        const event = JSON.parse(process.argv[1]);
        const context = { awsRequestId: 'bundle', getRemainingTimeInMillis: () => 10000 };
        process.stdout.write(JSON.stringify(await handler(event, context)));`;

      // Act
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--input-type=module', '-e', script, JSON.stringify(withKey(fixture('create'), 'bundle-key-0001'))],
        { env, timeout: 20_000 },
      );

      // Assess
      const response = JSON.parse(stdout) as { statusCode: number; body: string };
      expect(response.statusCode).toBe(201);
      const vended = JSON.parse(response.body) as { sessionId: string; credentials: { AccessKeyId: string } };
      expect(vended.credentials.AccessKeyId).toBe('ASIALOCALSTANDIN0001');
      expect(await store.get(vended.sessionId)).toMatchObject({
        status: 'active',
        user: 'alice@example.com',
      });
      const assumeRole = new URLSearchParams(seen.sts[0]);
      expect(assumeRole.get('Action')).toBe('AssumeRole');
      expect(assumeRole.get('RoleArn')).toBe('arn:aws:iam::444455556666:role/dev');
      expect(assumeRole.get('Tags.member.1.Key')).toBe('SentinelSessionID');
      expect(assumeRole.get('Tags.member.1.Value')).toBe(vended.sessionId);
      expect(assumeRole.get('TransitiveTagKeys.member.1')).toBe('SentinelSessionID');
      const [putEvents] = seen.events.map(
        (e) => JSON.parse(e) as { Entries: { DetailType: string; Detail: string }[] },
      );
      expect(putEvents?.Entries.map((e) => e.DetailType)).toEqual(['SessionCreated']);
      expect(putEvents?.Entries[0]?.Detail).not.toContain('stand-in-secret');
      expect(JSON.parse(putEvents?.Entries[0]?.Detail ?? '{}')).toMatchObject({
        accessRule: 'allow-dev',
        policyVersion: 'bundle-1',
      });
      expect(seen.ssm.map((r) => JSON.parse(r) as unknown)).toEqual([
        { Name: '/sentinel/policy', WithDecryption: true },
      ]);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vend on DynamoDB Local under a policy file', () => {
  const policyYaml = (carol: 'allow' | 'deny', version: number) => `
version: ${version}
admins: []
rules:
  - name: carol-${carol}
    effect: ${carol}
    users: [carol]
    reason: carol is ${carol === 'deny' ? 'suspended' : 'fine'}
  - name: everyone-dev
    effect: allow
    profiles: [dev]
`;

  it('creates and refreshes as the file allows; an edit refuses the next refresh once the cache expires', async () => {
    // Prepare: the policy file, read through the cache the local stack uses (YAML, 60 s max age).
    const dir = mkdtempSync(join(tmpdir(), 'vend-policy-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, policyYaml('allow', 1));
    const cacheClock = new ManualClock();
    const events = new RecordingPublisher();
    const vendWith = createVendApi({
      store,
      issuer: new OfflineCredentialIssuer({ warn: () => undefined }),
      publisher: events,
      clock: systemClock,
      ids: randomIds,
      profiles: PROFILES,
      storeFailure: 'deny',
      telemetry: { ...silentTelemetry, correlate: () => undefined },
      policy: new CachedPolicySource({
        read: () => readFile(file, 'utf8'),
        parse: (text) => parsePolicyDocument(text, file),
        clock: cacheClock,
        maxAgeSeconds: 60,
        where: file,
        log: { unavailable: () => undefined, loaded: () => undefined },
      }),
    });
    const carol = 'arn:aws:iam::111122223333:user/carol';
    const call = (event: HttpApiEvent) => vendWith(withCaller(event, carol), lambdaContext('policy-file'));
    try {
      // Act: create and refresh under version 1, then carol is suspended.
      const created = await call(fixture('create'));
      const sessionId = String(body(created).sessionId);
      const refreshed = await call(withBody(refreshOf(sessionId), '{"profile":"dev"}'));
      writeFileSync(file, policyYaml('deny', 2));
      const stillCached = await call(withBody(refreshOf(sessionId), '{"profile":"dev"}'));
      cacheClock.advanceSeconds(61);
      const before = await store.get(sessionId);
      const refused = await call(withBody(refreshOf(sessionId), '{"profile":"dev"}'));

      // Assess
      expect([created.statusCode, refreshed.statusCode, stillCached.statusCode]).toEqual([201, 200, 200]);
      expect([refused.statusCode, body(refused)]).toEqual([
        403,
        { code: 'AccessDenied', message: 'carol is suspended (rule "carol-deny")' },
      ]);
      expect(await store.get(sessionId)).toEqual(before);
      const created1 = events.events.find((e) => e.detailType === 'SessionCreated');
      expect(created1?.detail).toMatchObject({
        accessRule: 'carol-allow',
        policyVersion: '1',
        user: 'carol',
      });
      const denied = events.events.filter((e) => e.detailType === 'VendDenied');
      expect(denied.map((e) => e.detail)).toEqual([
        expect.objectContaining({
          action: 'refresh',
          sessionId,
          user: 'carol',
          principalArn: carol,
          rule: 'carol-deny',
          policyVersion: '2',
        }),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
