import { describe, expect, it } from 'vitest';
import { InMemorySessionStore } from '../../support/in-memory-session-store.js';
import {
  CONTRACT_AUDIT_RETENTION_SECONDS,
  makeSession,
  sessionStoreContract,
} from '../../support/session-store-contract.js';

// The fake runs the same contract as DynamoDbSessionStore (test/integration/session-store.test.ts).
let store = new InMemorySessionStore({ auditRetentionSeconds: CONTRACT_AUDIT_RETENTION_SECONDS });
sessionStoreContract('InMemorySessionStore', () => store);

describe('InMemorySessionStore test hooks', () => {
  it('failNext throws once on the next call, then works again', async () => {
    // Prepare
    store = new InMemorySessionStore();
    const session = makeSession();
    const outage = new Error('table unreachable');
    store.failNext(outage);
    // Act
    const failed = store.create(session);
    // Assess
    await expect(failed).rejects.toBe(outage);
    expect(store.all()).toEqual([]);
    await store.create(session);
    expect(store.all()).toEqual([session]);
  });

  it('failNext(error, method) waits for that method', async () => {
    store = new InMemorySessionStore();
    const session = makeSession();
    const outage = new Error('throttled');
    store.failNext(outage, 'touch');

    await store.create(session);
    const touched = store.touch(session.sessionId, {
      principalArn: session.principalArn,
      now: new Date(session.createdAt),
    });

    await expect(touched).rejects.toBe(outage);
    expect(await store.get(session.sessionId)).toEqual(session);
  });
});
