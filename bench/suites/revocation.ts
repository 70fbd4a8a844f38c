/**
 * revocation: the deny list at volume.
 *
 * - revocation.enforced_of_500: 500 live revocations on one role (5 s apart, all within the credential hour),
 *   each enforced through the use case and the IAM enforcer against a stateful IAM and deny-list table; counted
 *   when the role's policy denies that session's credential right after its enforcement and still after the
 *   500th (per-session entries while they fit, then the token-issue-time fallback).
 * - revocation.denylist_chars_max: the largest total of the role's inline policies IAM accepted during the
 *   run, the role's other 2,500-character inline policy included (IAM's quota: 10,240, whitespace excluded).
 * - revocation.fallback_after (no target): how many revocations were listed one by one before the first
 *   token-issue-time fallback.
 * - revocation.verifier_deny_after_revoke_ms: the session authorizer (its handler, a 5 s allow cache, the
 *   Sessions table on DynamoDB Local, STS faked) allows a session, which is then revoked; how long until the
 *   authorizer denies it, polling every 20 ms. At most the cache TTL by construction.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTemplateTables, localClientConfig, startDynamoDbLocal } from '../../local/dynamodb-local.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { createObservability } from '../../src/commons/powertools.js';
import { IAM_ROLE_INLINE_POLICY_MAX_CHARS } from '../../src/domain/deny-list.js';
import { fakeLambdaContext } from '../../test/support/consumer-fakes.js';
import { runRevocationVolume } from '../../test/support/deny-list-world.js';
import {
  callerToken,
  fakeSts,
  IDS,
  VERIFIER_AUDIENCE,
  verifierFixture,
  verifierSession,
} from '../../test/support/verifier-world.js';
import { type Metrics, type Suite, sleep } from '../harness.js';

const REVOCATIONS = 500;
const ALLOW_CACHE_SECONDS = 5;

/** Milliseconds from a revocation to the authorizer's first deny of the session, with a 5 s allow cache. */
const verifierDenyAfterRevokeMs = async (): Promise<number> => {
  // The handler module builds its deployed handler from the environment when imported.
  process.env.SESSIONS_TABLE_NAME ??= 'bench-unused';
  process.env.VERIFIER_AUDIENCE ??= VERIFIER_AUDIENCE;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const { createSessionAuthorizerHandler } = await import('../../src/handlers/session-authorizer.js');
  const dynamo = await startDynamoDbLocal();
  const client = new DynamoDBClient(localClientConfig(dynamo.endpoint));
  try {
    const names = await createTemplateTables(dynamo.endpoint, { prefix: 'benchverifier' });
    const documentClient = DynamoDBDocumentClient.from(client);
    const store = new DynamoDbSessionStore({ documentClient, tableName: names.SessionsTable });
    await store.create(verifierSession(IDS.active, new Date()));
    const handler = createSessionAuthorizerHandler({
      config: {
        sessionsTableName: names.SessionsTable,
        allowCacheSeconds: ALLOW_CACHE_SECONDS,
        audience: VERIFIER_AUDIENCE,
      },
      clients: { documentClient, fetch: fakeSts().fetch },
      observability: createObservability({ serviceName: 'bench-verifier' }),
    });
    const event = verifierFixture<{ headers: Record<string, string> }>('http-active');
    const authorized = async (): Promise<boolean> => {
      const fresh = {
        ...event,
        headers: {
          ...event.headers,
          authorization: callerToken('ASIAVERIFYACTIVE0001', { signedAt: new Date() }),
        },
      };
      const response = (await handler(fresh as never, fakeLambdaContext())) as { isAuthorized: boolean };
      return response.isAuthorized;
    };
    if (!(await authorized())) throw new Error('the bench session was not allowed before its revocation');
    await store.revoke(IDS.active, { by: 'bench', reason: 'bench', now: new Date() });
    const revokedAt = performance.now();
    while (await authorized()) {
      if (performance.now() - revokedAt > 4 * ALLOW_CACHE_SECONDS * 1000) throw new Error('never denied');
      await sleep(20);
    }
    return performance.now() - revokedAt;
  } finally {
    client.destroy();
    await dynamo.stop();
  }
};

const suite: Suite = {
  name: 'revocation',
  targets: [
    { metric: 'revocation.enforced_of_500', op: '>=', value: REVOCATIONS },
    { metric: 'revocation.denylist_chars_max', op: '<=', value: IAM_ROLE_INLINE_POLICY_MAX_CHARS },
    { metric: 'revocation.verifier_deny_after_revoke_ms', op: '<=', value: ALLOW_CACHE_SECONDS * 1000 },
  ],
  async run(): Promise<Metrics> {
    const run = await runRevocationVolume({ count: REVOCATIONS, otherPolicyChars: 2500, spacingSeconds: 5 });
    const fallbackAt = run.results.findIndex((r) => r.mode === 'token-issue-time');
    return {
      'revocation.enforced_of_500': Math.min(run.enforced, run.enforcedAtEnd),
      'revocation.denylist_chars_max': run.world.maxInlineChars(),
      'revocation.fallback_after': fallbackAt === -1 ? REVOCATIONS : fallbackAt,
      'revocation.verifier_deny_after_revoke_ms': await verifierDenyAfterRevokeMs(),
    };
  },
};

export default suite;
