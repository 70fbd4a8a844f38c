/**
 * The operator API against DynamoDB Local (tables from template.yaml): owner, another user and an admin on
 * every route; bad input on every route writes nothing; revoke-user over 250 sessions, some already ended.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../local/manual-clock.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { parseCallerArn } from '../../src/domain/identity.js';
import type { HttpApiEvent, HttpResult } from '../../src/handlers/http/event.js';
import { createOperatorApi, type OperatorMetric } from '../../src/handlers/http/operator-api.js';
import { useLocalTables } from '../support/local-tables.js';
import {
  ADMIN_ARN,
  ALICE_ARN,
  BOB_ARN,
  EXECUTION_LINKS,
  OPERATOR_POLICY,
  operatorRequest,
  sessionOf,
} from '../support/operator-api.js';
import { FixedPolicySource, lambdaContext, RecordingTelemetry } from '../support/vend-api.js';

const tables = useLocalTables();
// Near the real time: DynamoDB Local's TTL runs on the wall clock and would purge rows dated in the past.
const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
const policy = new FixedPolicySource(OPERATOR_POLICY);
let store: DynamoDbSessionStore;
let api: ReturnType<typeof createOperatorApi>;
let telemetry: RecordingTelemetry<OperatorMetric>;

const call = (event: HttpApiEvent, remainingMs = 29_000): Promise<HttpResult> =>
  api(event, { ...lambdaContext('operator-test'), getRemainingTimeInMillis: () => remainingMs });
const body = (response: HttpResult): Record<string, unknown> => JSON.parse(response.body);
const answer = (response: HttpResult) => [response.statusCode, body(response).code];

/** Every row as stored, to show that a refused request wrote nothing. */
const rows = async () =>
  (
    (
      await tables.documentClient.send(
        new ScanCommand({ TableName: tables.names.SessionsTable, ConsistentRead: true }),
      )
    ).Items ?? []
  ).sort((a, b) => String(a.sessionId).localeCompare(String(b.sessionId)));

/** The byUser index is eventually consistent (on DynamoDB Local too): wait until it shows `ids`. */
const indexed = async (user: string, ids: readonly string[]): Promise<void> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await store.listByUser(user, { limit: 100, ...(cursor === undefined ? {} : { cursor }) });
      for (const session of page.items) seen.add(session.sessionId);
      cursor = page.cursor;
    } while (cursor !== undefined);
    if (ids.every((id) => seen.has(id))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the byUser index never showed all ${ids.length} sessions of ${user}`);
};

let n = 0;
/** A new session id per call: every test seeds its own rows. */
const nextId = (): string => {
  n += 1;
  return n.toString(16).padStart(8, '0').padEnd(32, 'b');
};

const seed = async (arn: string, count = 1, profile = 'dev'): Promise<string[]> => {
  const ids = Array.from({ length: count }, nextId);
  const base = clock.now().getTime();
  // Distinct creation times, so "newest first" has one answer.
  await Promise.all(ids.map((id, i) => store.create(sessionOf(id, arn, new Date(base + i * 1000), profile))));
  clock.advanceSeconds(count);
  await indexed(parseCallerArn(arn).user, ids);
  return ids;
};

beforeAll(() => {
  store = new DynamoDbSessionStore({
    documentClient: tables.documentClient,
    tableName: tables.names.SessionsTable,
  });
});

beforeEach(() => {
  policy.policy = OPERATOR_POLICY;
  telemetry = new RecordingTelemetry<OperatorMetric>();
  api = createOperatorApi({ store, clock, policy, telemetry, executions: EXECUTION_LINKS });
});

describe('GET /v1/sessions/{id}', () => {
  it('shows the owner and an admin the session with its executions; anyone else gets 404 as for no session', async () => {
    const [id = ''] = await seed(ALICE_ARN);
    const asOwner = await call(operatorRequest('show', { as: ALICE_ARN, sessionId: id }));
    const asAdmin = await call(operatorRequest('show', { as: ADMIN_ARN, sessionId: id }));
    const asOther = await call(operatorRequest('show', { as: BOB_ARN, sessionId: id }));
    const missing = await call(operatorRequest('show', { as: BOB_ARN, sessionId: 'f'.repeat(32) }));

    expect(asOwner.statusCode).toBe(200);
    expect(body(asAdmin)).toEqual(body(asOwner));
    const shown = body(asOwner) as { session: Record<string, unknown>; workflows: Record<string, unknown> };
    expect(shown.session).toMatchObject({ sessionId: id, status: 'active', principalArn: ALICE_ARN });
    expect(shown.session).not.toHaveProperty('ttl');
    expect(shown.workflows).toEqual({
      lifecycle: {
        executionArn: `arn:aws:states:eu-west-1:111122223333:execution:sentinel-sessions-lifecycle-test:${id}`,
        consoleUrl: `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:111122223333:execution:sentinel-sessions-lifecycle-test:${id}`,
      },
    });
    // Someone else's session and no session at all are indistinguishable.
    expect(asOther).toEqual(missing);
    expect(answer(asOther)).toEqual([404, 'SessionNotFound']);
  });
});

describe('GET /v1/sessions', () => {
  it('lists the caller’s own sessions newest first, in pages; another user’s only for an admin', async () => {
    // Henry's own principal: the other tests' sessions of alice do not show up here.
    const HENRY_ARN = 'arn:aws:iam::111122223333:user/henry';
    const henrys = await seed(HENRY_ARN, 5);
    await seed(BOB_ARN, 2);
    const ids = (response: HttpResult) =>
      (body(response).sessions as { sessionId: string }[]).map((s) => s.sessionId);

    const first = await call(operatorRequest('list', { as: HENRY_ARN, query: 'limit=3' }));
    const cursor = String(body(first).nextCursor);
    const second = await call(operatorRequest('list', { as: HENRY_ARN, query: `limit=3&cursor=${cursor}` }));
    expect([...ids(first), ...ids(second)]).toEqual([...henrys].reverse());
    expect(body(second)).not.toHaveProperty('nextCursor');

    const bobLists = await call(operatorRequest('list', { as: BOB_ARN }));
    expect(ids(bobLists).some((id) => henrys.includes(id))).toBe(false);
    const bobAsksForHenry = await call(
      operatorRequest('list', { as: BOB_ARN, query: 'user=alice%40example.com' }),
    );
    expect(answer(bobAsksForHenry)).toEqual([403, 'AdminRequired']);
    // A cursor from alice's listing does not open another user's listing.
    const stolen = await call(operatorRequest('list', { as: BOB_ARN, query: `cursor=${cursor}` }));
    expect(answer(stolen)).toEqual([400, 'InvalidCursor']);

    const adminForHenry = await call(
      operatorRequest('list', { as: ADMIN_ARN, query: 'user=henry&limit=100' }),
    );
    expect(ids(adminForHenry)).toEqual([...henrys].reverse());
    const byPrincipal = await call(
      operatorRequest('list', {
        as: ADMIN_ARN,
        query: `principal=${encodeURIComponent(HENRY_ARN)}&limit=100`,
      }),
    );
    expect(ids(byPrincipal)).toEqual(ids(adminForHenry));
  });

  it('filters by profile and status for an admin across users (the active index)', async () => {
    const [revoked = ''] = await seed(ALICE_ARN, 1, 'audit');
    const [active = ''] = await seed(BOB_ARN, 1, 'audit');
    await store.revoke(revoked, { by: ADMIN_ARN, reason: 'test', now: clock.now() });
    const response = await call(
      operatorRequest('list-admin-active', { as: ADMIN_ARN, query: 'status=active&profile=audit' }),
    );
    const listed = (body(response).sessions as { sessionId: string; status: string }[]).map(
      (s) => s.sessionId,
    );
    expect(listed).toContain(active);
    expect(listed).not.toContain(revoked);
    // The same question from a non-admin lists only its own.
    const own = await call(operatorRequest('list', { as: ALICE_ARN, query: 'status=active&profile=audit' }));
    expect(body(own).sessions).toEqual([]);
  });
});

describe('POST /v1/sessions/{id}/revoke', () => {
  it('another user gets 404 and writes nothing; the owner revokes; a repeat is 409 with the status', async () => {
    const [id = ''] = await seed(ALICE_ARN);
    const before = await rows();

    const byOther = await call(operatorRequest('revoke', { as: BOB_ARN, sessionId: id }));
    expect(answer(byOther)).toEqual([404, 'SessionNotFound']);
    expect(await rows()).toEqual(before);

    const byOwner = await call(
      operatorRequest('revoke', { as: ALICE_ARN, sessionId: id, body: { reason: 'laptop lost' } }),
    );
    expect(byOwner.statusCode).toBe(200);
    const row = (await store.get(id)) ?? { status: 'missing' };
    expect(row).toMatchObject({
      status: 'revoked',
      revokedBy: ALICE_ARN,
      revokedReason: 'laptop lost',
      revokedAt: clock.now().toISOString(),
    });
    expect(body(byOwner).session).toMatchObject({ status: 'revoked', revokedBy: ALICE_ARN });

    const again = await call(operatorRequest('revoke', { as: ADMIN_ARN, sessionId: id }));
    expect(body(again)).toEqual({
      code: 'SessionAlreadyTerminal',
      message: 'the session is already revoked',
      status: 'revoked',
    });
    expect(again.statusCode).toBe(409);
    expect(await store.get(id)).toEqual(row);
  });

  it('an admin revokes anyone’s session, recorded as the admin', async () => {
    const [id = ''] = await seed(BOB_ARN);
    const response = await call(
      operatorRequest('revoke', { as: ADMIN_ARN, sessionId: id, body: { reason: 'incident 42' } }),
    );
    expect(response.statusCode).toBe(200);
    expect(await store.get(id)).toMatchObject({
      status: 'revoked',
      revokedBy: ADMIN_ARN,
      revokedReason: 'incident 42',
    });
    expect(telemetry.counts.get('SessionRevokedByOperator')).toBe(1);
  });

  it('shows a revoked session’s fan-out execution', async () => {
    const [id = ''] = await seed(ALICE_ARN);
    await call(operatorRequest('revoke', { as: ALICE_ARN, sessionId: id }));
    const shown = body(await call(operatorRequest('show', { as: ALICE_ARN, sessionId: id })));
    expect((shown.workflows as Record<string, { executionArn: string }>).revocationFanout?.executionArn).toBe(
      `arn:aws:states:eu-west-1:111122223333:execution:sentinel-sessions-revocation-fanout-test:revoke-${id}`,
    );
  });
});

describe('without a readable access policy', () => {
  it('own sessions still work; anything that needs admin rights is 503, never a 404 that misleads an admin', async () => {
    const [own = ''] = await seed(ALICE_ARN);
    const [other = ''] = await seed(BOB_ARN);
    policy.policy = 'unavailable';
    const before = await rows();
    expect((await call(operatorRequest('show', { as: ALICE_ARN, sessionId: own }))).statusCode).toBe(200);
    expect(answer(await call(operatorRequest('show', { as: ADMIN_ARN, sessionId: other })))).toEqual([
      503,
      'PolicyUnavailable',
    ]);
    expect(
      answer(await call(operatorRequest('revoke-user', { as: ADMIN_ARN, user: 'bob@example.com' }))),
    ).toEqual([503, 'PolicyUnavailable']);
    expect(await rows()).toEqual(before);
    expect((await call(operatorRequest('revoke', { as: ALICE_ARN, sessionId: own }))).statusCode).toBe(200);
  });
});

describe('bad input on every route', () => {
  const cases: readonly [string, () => HttpApiEvent, number, string][] = [
    [
      'list: unknown parameter',
      () => operatorRequest('list', { query: 'owner=bob' }),
      400,
      'UnknownParameter',
    ],
    [
      'list: repeated parameter',
      () => operatorRequest('list', { query: 'limit=1&limit=2' }),
      400,
      'DuplicateParameter',
    ],
    [
      'list: limit out of range',
      () => operatorRequest('list', { query: 'limit=0' }),
      400,
      'InvalidParameter',
    ],
    ['list: forged cursor', () => operatorRequest('list', { query: 'cursor=e30' }), 400, 'InvalidCursor'],
    ['list: bad status', () => operatorRequest('list', { query: 'status=revoked' }), 400, 'InvalidParameter'],
    [
      'list: bad principal',
      () => operatorRequest('list', { query: 'principal=root' }),
      400,
      'InvalidParameter',
    ],
    ['list: a body', () => operatorRequest('list', { body: '{}' }), 400, 'UnexpectedBody'],
    ['show: bad id', () => operatorRequest('show', { sessionId: 'ABC' }), 400, 'InvalidSessionId'],
    ['revoke: no body', () => ({ ...operatorRequest('revoke'), body: null }), 400, 'InvalidBody'],
    ['revoke: not JSON', () => operatorRequest('revoke', { body: '{reason' }), 400, 'MalformedJson'],
    [
      'revoke: extra field',
      () => operatorRequest('revoke', { body: { reason: 'x', by: 'me' } }),
      400,
      'UnknownField',
    ],
    [
      'revoke: blank reason',
      () => operatorRequest('revoke', { body: { reason: '  ' } }),
      400,
      'InvalidField',
    ],
    [
      'revoke: long reason',
      () => operatorRequest('revoke', { body: { reason: 'x'.repeat(257) } }),
      400,
      'InvalidField',
    ],
    [
      'revoke: control chars',
      () => operatorRequest('revoke', { body: { reason: 'a\nb' } }),
      400,
      'InvalidField',
    ],
    [
      'revoke: reason not a string',
      () => operatorRequest('revoke', { body: { reason: 7 } }),
      400,
      'InvalidField',
    ],
    ['revoke-user: bad user', () => operatorRequest('revoke-user', { user: 'a/b/c' }), 400, 'InvalidUser'],
    ['revoke-user: no reason', () => operatorRequest('revoke-user', { body: {} }), 400, 'InvalidField'],
    [
      'any: no IAM identity',
      () => ({
        ...operatorRequest('show'),
        requestContext: { ...operatorRequest('show').requestContext, authorizer: null },
      }),
      401,
      'Unauthenticated',
    ],
  ];

  it.each(cases)('%s → %d %s, nothing written', async (_name, event, status, code) => {
    await seed(ALICE_ARN);
    const before = await rows();
    const response = await call(event());
    expect(answer(response)).toEqual([status, code]);
    expect(typeof body(response).message).toBe('string');
    expect(await rows()).toEqual(before);
  });
});

describe('POST /v1/users/{user}/revoke', () => {
  const DAVE_ARN = 'arn:aws:iam::111122223333:user/dave';

  it('is for admins only: the user themselves and others get 403 and nothing is written', async () => {
    await seed(DAVE_ARN, 2);
    const before = await rows();
    for (const as of [DAVE_ARN, BOB_ARN]) {
      expect(answer(await call(operatorRequest('revoke-user', { as, user: 'dave' })))).toEqual([
        403,
        'AdminRequired',
      ]);
    }
    expect(await rows()).toEqual(before);
  });

  it('revokes every active session of the user over 250 (paginated), counts the ended ones; a repeat is a no-op', async () => {
    const erin = 'arn:aws:iam::111122223333:user/erin';
    const erins = await seed(erin, 250);
    const bystander = await seed('arn:aws:iam::111122223333:user/frank', 3);
    // 20 already revoked, 10 already expired before the run.
    await Promise.all(
      erins
        .slice(0, 20)
        .map((id) => store.revoke(id, { by: ADMIN_ARN, reason: 'earlier', now: clock.now() })),
    );
    await Promise.all(
      erins.slice(20, 30).map((id) => store.expire(id, { reason: 'forced', force: true, now: clock.now() })),
    );

    const run = await call(
      operatorRequest('revoke-user', { as: ADMIN_ARN, user: 'erin', body: { reason: 'left the company' } }),
    );
    expect(run.statusCode).toBe(200);
    expect(body(run)).toEqual({
      user: 'erin',
      revoked: 220,
      alreadyTerminal: 30,
      failed: 0,
      failedSessionIds: [],
      complete: true,
    });
    const after = await Promise.all(erins.map((id) => store.get(id)));
    expect(after.filter((s) => s?.status === 'active')).toEqual([]);
    expect(
      after.filter((s) => s?.revokedBy === ADMIN_ARN && s.revokedReason === 'left the company'),
    ).toHaveLength(220);
    for (const id of bystander) expect((await store.get(id))?.status).toBe('active');

    const before = await rows();
    const repeat = await call(
      operatorRequest('revoke-user', { as: ADMIN_ARN, user: 'erin', body: { reason: 'again' } }),
    );
    expect(body(repeat)).toMatchObject({ revoked: 0, alreadyTerminal: 250, failed: 0, complete: true });
    expect(await rows()).toEqual(before);
  });

  it('stops starting revocations when the invocation runs out of time, says so, and a repeat finishes', async () => {
    const grace = 'arn:aws:sts::111122223333:assumed-role/deploy/grace';
    const ids = await seed(grace, 5);
    const cut = await call(operatorRequest('revoke-user', { as: ADMIN_ARN, user: 'deploy%2Fgrace' }), 1_000);
    expect(body(cut)).toMatchObject({ user: 'deploy/grace', revoked: 0, complete: false });
    const rest = await call(operatorRequest('revoke-user', { as: ADMIN_ARN, user: 'deploy%2Fgrace' }));
    expect(body(rest)).toMatchObject({ revoked: 5, complete: true });
    for (const id of ids) expect((await store.get(id))?.status).toBe('revoked');
  });
});
