/**
 * A row that cannot be read as a session is a deny, never "store unreachable": with
 * SESSION_STORE_FAILURE=allow a container that saw the session active must not serve it once an operator's
 * hand-written revocation (or any corruption) made the row unreadable. On DynamoDB Local.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../local/manual-clock.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import type { HttpApiEvent } from '../../src/handlers/http/event.js';
import { createVendApi } from '../../src/handlers/http/vend-api.js';
import { useLocalTables } from '../support/local-tables.js';
import { RecordingPublisher } from '../support/recording-publisher.js';
import {
  FakeIssuer,
  FixedPolicySource,
  fixture,
  lambdaContext,
  PROFILES,
  RecordingTelemetry,
  refreshOf,
  SequentialIds,
} from '../support/vend-api.js';

const tables = useLocalTables();
// Near the real time: DynamoDB Local's TTL runs on the wall clock and would purge rows dated in the past.
const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
const issuer = new FakeIssuer(clock);
const telemetry = new RecordingTelemetry();
let vend: ReturnType<typeof createVendApi>;
const api = (event: HttpApiEvent) => vend(event, lambdaContext('malformed'));
const body = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown>;

beforeAll(() => {
  vend = createVendApi({
    store: new DynamoDbSessionStore({
      documentClient: tables.documentClient,
      tableName: tables.names.SessionsTable,
    }),
    issuer,
    publisher: new RecordingPublisher(),
    clock,
    ids: new SequentialIds(),
    profiles: PROFILES,
    storeFailure: 'allow',
    policy: new FixedPolicySource(),
    telemetry,
  });
});

const row = async (sessionId: string) =>
  (
    await tables.documentClient.send(
      new GetCommand({ TableName: tables.names.SessionsTable, Key: { sessionId } }),
    )
  ).Item ?? {};

/** Hand-written revocations that are each slightly off, as an operator's console edit might be. */
const MALFORMED_REVOCATIONS: readonly [string, (item: Record<string, unknown>) => Record<string, unknown>][] =
  [
    [
      'revokedAt without milliseconds',
      (item) => ({ ...item, status: 'revoked', revokedAt: '2026-01-15T09:31:00Z' }),
    ],
    ['status in capitals', (item) => ({ ...item, status: 'REVOKED' })],
    ['revokedAt as epoch seconds', (item) => ({ ...item, status: 'revoked', revokedAt: 1768469460 })],
    ['version as a string', (item) => ({ ...item, status: 'revoked', version: '3' })],
    ['expiresAt removed', ({ expiresAt: _gone, ...item }) => ({ ...item, status: 'revoked' })],
  ];

describe('a malformed session row under SESSION_STORE_FAILURE=allow', () => {
  it.each(MALFORMED_REVOCATIONS)(
    '%s → 403 SessionUnverifiable, no credentials, with or without a profile',
    async (_name, spoil) => {
      const created = await api(fixture('create'));
      expect(created.statusCode).toBe(201);
      const sessionId = String(body(created).sessionId);
      // Seen active by this container (its last-known state), then spoiled by hand.
      expect((await api(refreshOf(sessionId))).statusCode).toBe(200);
      await tables.documentClient.send(
        new PutCommand({ TableName: tables.names.SessionsTable, Item: spoil(await row(sessionId)) }),
      );
      const issued = issuer.requests.length;

      const named = await api({ ...refreshOf(sessionId), body: JSON.stringify({ profile: 'dev' }) });
      const unnamed = await api(refreshOf(sessionId));

      expect([named.statusCode, body(named).code]).toEqual([403, 'SessionUnverifiable']);
      expect([unnamed.statusCode, body(unnamed).code]).toEqual([403, 'SessionUnverifiable']);
      expect(issuer.requests.length).toBe(issued);
      expect(telemetry.counts.get('StoreFailureAllowed')).toBeUndefined();
    },
  );
});
