/**
 * The vend API against DynamoDB Local (tables built from template.yaml): the real session store and
 * Powertools idempotency on the real IdempotencyTable. STS is the offline issuer (it cannot run locally).
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { OfflineCredentialIssuer } from '../../src/adapters/offline-credential-issuer.js';
import { systemClock } from '../../src/domain/clock.js';
import { randomIds } from '../../src/domain/ids.js';
import type { HttpApiEvent } from '../../src/handlers/http/event.js';
import { createVendApi, IDEMPOTENCY_TTL_SECONDS } from '../../src/handlers/http/vend-api.js';
import { parseProfiles } from '../../src/usecases/vend-profiles.js';
import { silentTelemetry } from '../../src/usecases/vend-types.js';
import { useLocalTables } from '../support/local-tables.js';
import { RecordingPublisher } from '../support/recording-publisher.js';
import { fixture, lambdaContext, OTHER_ARN, refreshOf, withBody, withCaller } from '../unit/vend/helpers.js';

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

  it('a create retried with the same Idempotency-Key returns the same session and credentials, never a second session', async () => {
    // Prepare
    const event = withKey(fixture('create'), 'retry-key-0001');
    const rowsBefore = (await scan(tables.names.SessionsTable)).length;
    const issuedBefore = issued;

    // Act
    const first = await api(event);
    const second = await api(event);

    // Assess
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(body(second)).toEqual(body(first));
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect((await scan(tables.names.SessionsTable)).length).toBe(rowsBefore + 1);
    expect(issued).toBe(issuedBefore + 1);
    const sessionId = body(first).sessionId;
    expect(
      publisher.events.filter((e) => e.detailType === 'SessionCreated' && e.detail.sessionId === sessionId),
    ).toHaveLength(1);
  });

  it('keeps the record (which holds credentials) only for the short replay window', async () => {
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
