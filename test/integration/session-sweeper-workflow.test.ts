/**
 * The session-sweeper ASL in the real interpreter against DynamoDB Local (through LocalWorkflowControl,
 * as the local stack runs it): the due sessions of every shard expired once with reason sweeper, the
 * others untouched, pagination and the per-run bound exercised, and the races with a refresh.
 */
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { LocalEventBus } from '../../local/event-bus.js';
import { LocalWorkflowControl } from '../../local/local-workflow-control.js';
import { activeShardOf, DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { newSession, type Session } from '../../src/domain/session.js';
import { iamUserCaller } from '../support/callers.js';
import { useLocalTables } from '../support/local-tables.js';
import { ManualStackClock } from '../support/manual-stack-clock.js';

const tables = useLocalTables();

const SHARDS = 3;
const PAGE = 20;
const PAGES_PER_SHARD = 3;
const IDLE_SECONDS = 900;
// In the future: DynamoDB Local really runs TTL deletes, and a row whose ttl has passed would vanish mid-test.
const base = Date.parse(new Date(Math.ceil(Date.now() / 86_400_000 + 1) * 86_400_000).toISOString());
const caller = iamUserCaller('alice');
let prefix = 0;

const storeOf = () =>
  new DynamoDbSessionStore({
    documentClient: tables.documentClient,
    tableName: tables.names.SessionsTable,
    activeShardCount: SHARDS,
  });

/** `count` sessions created one second apart from `fromSecond` after base: each expires 900 s after it. */
const createSessions = async (fromSecond: number, count: number): Promise<Session[]> => {
  const run = (++prefix).toString(16).padStart(4, '0');
  const sessions = Array.from({ length: count }, (_, i) =>
    newSession({
      sessionId: `${run}${(fromSecond + i).toString(16).padStart(28, '0')}`,
      caller,
      profile: 'dev',
      roleArn: 'arn:aws:iam::123456789012:role/dev',
      sourceIdentity: 'sentinel=alice=direct=r',
      policy: { idleTimeoutSeconds: IDLE_SECONDS, maxLifetimeSeconds: 36_000 },
      now: new Date(base + (fromSecond + i) * 1000),
    }),
  );
  const store = storeOf();
  for (let i = 0; i < sessions.length; i += 25) {
    await Promise.all(sessions.slice(i, i + 25).map((s) => store.create(s)));
  }
  return sessions;
};

const sweeperOn = (clock: ManualStackClock, dynamodb: DynamoDBClient = tables.client) => {
  const bus = new LocalEventBus();
  return new LocalWorkflowControl({
    dynamodb,
    sessionsTableName: tables.names.SessionsTable,
    eventBusName: bus.busName,
    bus,
    clock,
    sweeper: {
      ActiveShardCount: String(SHARDS),
      SweepPageSize: String(PAGE),
      SweepPagesPerShard: String(PAGES_PER_SHARD),
    },
  });
};

const rowsOf = async (sessions: readonly Session[]) => {
  const store = storeOf();
  return Promise.all(sessions.map((s) => store.get(s.sessionId)));
};

describe('session-sweeper workflow (real ASL interpreter, DynamoDB Local)', () => {
  it('expires the due sessions of every shard once (reason sweeper), leaves the others alone, and drains a backlog over runs', async () => {
    // Prepare: 250 due (expiring at base+900 … base+1149 s) and 250 not due for an hour yet, over 3 shards
    const due = await createSessions(0, 250);
    const notDue = await createSessions(250 + 3600, 250);
    const perShard = Array.from(
      { length: SHARDS },
      (_, n) => due.filter((s) => activeShardOf(s.sessionId, SHARDS) === `active#${n}`).length,
    );
    expect(perShard.every((n) => n > 0)).toBe(true);
    // More due per shard than one run takes: the backlog needs a second run.
    expect(Math.max(...perShard)).toBeGreaterThan(PAGE * PAGES_PER_SHARD);
    const clock = new ManualStackClock(new Date(base + (IDLE_SECONDS + 249) * 1000 + 600));
    const workflows = sweeperOn(clock);
    // Act: the first run
    const first = await workflows.runSweeper();
    const afterFirst = await rowsOf(due);
    // Assess: bounded per shard, and pages followed within a run
    expect(first.status).toBe('SUCCEEDED');
    expect(first.statesEntered).toContain('QueryNextPage');
    const expiredFirst = afterFirst.filter((row) => row?.status === 'expired').length;
    const bound = perShard.reduce((sum, n) => sum + Math.min(n, PAGE * PAGES_PER_SHARD), 0);
    expect(expiredFirst).toBe(bound);
    // Act: a run a minute until one finds nothing due
    const runTimes = [clock.now()];
    let runs = 1;
    let lastRun = first;
    while (lastRun.statesEntered.includes('ExpiredBySweeper') && runs < 10) {
      clock.advanceSeconds(60);
      runTimes.push(clock.now());
      lastRun = await workflows.runSweeper();
      runs++;
    }
    // Assess: as many runs as the fullest shard needs at its bound, plus the empty one
    expect(runs).toBe(Math.ceil(Math.max(...perShard) / (PAGE * PAGES_PER_SHARD)) + 1);
    // Every due session expired exactly once (one write: version 2), stored canonically (the store's
    // parser read it back), at the second of the run that expired it; not one of the others touched
    const rows = await rowsOf(due);
    const runSeconds = runTimes.map((t) => new Date(Math.floor(t.getTime() / 1000) * 1000).toISOString());
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'expired', expiredReason: 'sweeper', version: 2 });
      expect(runSeconds).toContain(row?.expiredAt);
      expect(Date.parse(row?.expiredAt ?? '')).toBeGreaterThanOrEqual(Date.parse(row?.expiresAt ?? ''));
    }
    const others = await rowsOf(notDue);
    expect(others.every((row) => row?.status === 'active' && row.version === 1)).toBe(true);
  });

  it('leaves a session refreshed between its query and its write active (the refresh wins cleanly)', async () => {
    // Prepare: two due sessions; the first is refreshed just before the sweeper's write reaches it
    const [raced, plain] = await createSessions(2000, 2);
    if (!raced || !plain) throw new Error('sessions not created');
    const extended = new Date(base + (2000 + IDLE_SECONDS + 600) * 1000).toISOString();
    let refreshed = false;
    const racing = {
      send: async (command: unknown) => {
        const key = command instanceof UpdateItemCommand ? command.input.Key?.sessionId?.S : undefined;
        if (key === raced.sessionId && !refreshed) {
          refreshed = true;
          await tables.documentClient.send(
            new UpdateCommand({
              TableName: tables.names.SessionsTable,
              Key: { sessionId: raced.sessionId },
              UpdateExpression: 'SET expiresAt = :extended ADD version :one, requestCount :one',
              ExpressionAttributeValues: { ':extended': extended, ':one': 1 },
            }),
          );
        }
        return tables.client.send(command as never);
      },
    } as unknown as DynamoDBClient;
    const clock = new ManualStackClock(new Date(base + (2001 + IDLE_SECONDS) * 1000));
    // Act
    const run = await sweeperOn(clock, racing).runSweeper();
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered).toContain('SomeoneElseFirst');
    const [racedRow, plainRow] = await rowsOf([raced, plain]);
    expect(racedRow).toMatchObject({ status: 'active', expiresAt: extended, version: 2 });
    expect(racedRow).not.toHaveProperty('expiredAt');
    expect(plainRow).toMatchObject({ status: 'expired', expiredReason: 'sweeper' });
  });

  it('a refresh that arrives after the sweeper expired the session loses cleanly (refused, nothing written)', async () => {
    // Prepare
    const [session] = await createSessions(3000, 1);
    if (!session) throw new Error('session not created');
    const clock = new ManualStackClock(new Date(base + (3000 + IDLE_SECONDS) * 1000));
    await sweeperOn(clock).runSweeper();
    // Act
    const refresh = await storeOf().touch(session.sessionId, {
      principalArn: session.principalArn,
      now: clock.now(),
    });
    // Assess
    expect(refresh).toMatchObject({ ok: false, refusal: { kind: 'AlreadyTerminal', status: 'expired' } });
    expect((await storeOf().get(session.sessionId))?.version).toBe(2);
  });
});
