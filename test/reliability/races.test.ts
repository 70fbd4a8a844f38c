/**
 * Races at the end of a session, on the whole local pipeline (HTTP → vend / operator API → DynamoDB Local →
 * stream → consumer → workflows in the ASL interpreter → bus → audit file). Each of SESSIONS sessions is hit at
 * once, at its expiresAt, by every writer that may end or extend it:
 *
 * - an operator revoke (POST /v1/sessions/{id}/revoke, an admin);
 * - the sweeper state machine, run for the second the session expires (one run per group of sessions);
 * - the lifecycle execution's expiry write, for sessions whose hard cap is that same second;
 * - a lazy expiry: a refresh (POST /v1/sessions/{id}/credentials) arriving at or after expiresAt;
 * - a refresh arriving just before expiresAt, which may extend the session and be served.
 *
 * Each contender's instant is drawn from a seeded PRNG around the session's expiresAt, so the start order
 * differs from session to session and every contender can win: the refresh by touching first, the others by
 * writing first. What must hold (docs/design.md invariants 1 and 2, docs/events.md "Why terminal events come
 * once"): exactly one terminal status per session, exactly one terminal event per session on the bus and in
 * the audit log, and no credential issued after the terminal write.
 *
 * "Issued" means handed to the caller in a response. STS answering (minting) is not issuing: vend re-reads the
 * row after STS answers and withholds credentials for a session that ended meanwhile. The suite records, for
 * every credential the offline issuer mints, what a strongly consistent read of the row says the instant STS
 * answered (before vend sees the credentials); a credential handed out although that read already saw the
 * terminal write was issued after it. Stored times (revokedAt, expiredAt) cannot order this: each is the
 * writer's clock when its request arrived (the sweeper's is its scheduled minute), not when the write landed.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClientConfig } from '../../local/dynamodb-local.js';
import type { EventEnvelope } from '../../local/event-bus.js';
import { LOCAL_CALLER_HEADER } from '../../local/http-api.js';
import { OfflineCredentialIssuer } from '../../local/offline-credential-issuer.js';
import { LOCAL_PROFILES, type LocalStack, startLocalStack } from '../../local/stack.js';
import { newSession, type Session } from '../../src/domain/session.js';
import { buildSourceIdentity } from '../../src/domain/sts-names.js';
import type { CredentialIssuer, CredentialRequest, IssuedCredentials } from '../../src/ports.js';
import { iamUserCaller } from '../support/callers.js';
import { intIn, prng } from '../support/prng.js';
import { describeHits, findSecrets } from '../support/secret-scan.js';

const SEED = 0x5e55_10e5;
const SESSIONS = 100;
/** Sessions in a group share their expiresAt; the groups race one after the other, each with the machine. */
const GROUPS = 5;
/** At least this long from a group's rows being written to their expiresAt (the next whole second after it). */
const LEAD_MS = 600;
/** The pace unit's ceiling: on a machine slower than this the races overlap less, but the file keeps its budget. */
const MAX_UNIT_MS = 60;
/** After the last terminal event: long enough for the stream poller to deliver a duplicate, if there were one. */
const QUIET_MS = 1000;
/** Share of sessions whose hard cap is their expiresAt, where the lifecycle execution wakes and contends. */
const AT_CAP_SHARE = 0.4;
const OWNER = iamUserCaller('alice');
const ADMIN_ARN = 'arn:aws:iam::123456789012:user/admin';
const DEV = LOCAL_PROFILES.dev;

type TerminalWinner = 'revoke' | 'sweeper' | 'workflow' | 'lazy';
type Contender = TerminalWinner | 'refresh';
type RowStatus = Session['status'] | 'missing' | 'unreadable';

/** One credential as the offline issuer minted it, and where the row stood the instant STS answered. */
interface Minted {
  readonly sessionId: string;
  readonly credentials: IssuedCredentials;
  /** The stack's clock when STS answered. */
  readonly mintedAt: string;
  /** A strongly consistent read of the row right after STS answered, before vend saw the credentials. */
  readonly rowAtMint: RowStatus;
}

/** The plan: which sessions sit at their cap, who is planned first, every contender's instant. */
const random = prng(SEED);
/** STS latency, drawn in whatever order the calls come: its own generator, so the plan stays reproducible. */
const stsLatency = prng(SEED + 1);
const minted: Minted[] = [];
/** Run inside AssumeRole, after minting and before the observer's read: a test forces a write into the window. */
const duringIssue = new Map<string, () => Promise<void>>();
let stack: LocalStack;
let tableReader: DynamoDBClient;

/**
 * STS as the race sees it: a few milliseconds of latency (the window in which a revocation can land between
 * vend's touch and STS's answer), then the observer's read of the row.
 */
const observedIssuer = (inner: CredentialIssuer): CredentialIssuer => ({
  issue: async (request: CredentialRequest, options) => {
    await sleep(intIn(stsLatency, 2, 20));
    const credentials = await inner.issue(request, options);
    await duringIssue.get(request.sessionId)?.();
    let rowAtMint: RowStatus;
    try {
      rowAtMint = (await stack.store.get(request.sessionId))?.status ?? 'missing';
    } catch {
      rowAtMint = 'unreadable';
    }
    minted.push({
      sessionId: request.sessionId,
      credentials,
      mintedAt: stack.clock.now().toISOString(),
      rowAtMint,
    });
    return credentials;
  },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const post = async (path: string, body: unknown, caller: string) => {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_CALLER_HEADER]: caller },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const refresh = (sessionId: string) =>
  post(`/v1/sessions/${sessionId}/credentials`, { profile: 'dev' }, OWNER.principalArn);
const revoke = (sessionId: string, reason: string) =>
  post(`/v1/sessions/${sessionId}/revoke`, { reason }, ADMIN_ARN);

/** The access key id a response handed out, if it handed any. */
const handedOutKey = (answer: { body: Record<string, unknown> }): string | undefined => {
  const credentials = answer.body.credentials as { AccessKeyId?: unknown } | undefined;
  return typeof credentials?.AccessKeyId === 'string' ? credentials.AccessKeyId : undefined;
};

/** Polls until `check` holds (the pipeline is asynchronous by design), failing with what it last saw. */
const eventually = async <T>(what: string, probe: () => T | Promise<T>, check: (value: T) => boolean) => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(value)}`);
    await sleep(50);
  }
};

const sessionIdOf = (event: EventEnvelope): string | undefined =>
  (event.detail as { sessionId?: unknown }).sessionId as string | undefined;

const TERMINAL_EVENTS = new Set(['SessionRevoked', 'SessionExpired']);
const isTerminalStatus = (status: unknown) => status === 'revoked' || status === 'expired';

const auditLog = (): EventEnvelope[] =>
  readFileSync(stack.auditLogPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EventEnvelope);

interface RaceRecord {
  readonly sessionIds: readonly string[];
  /** The final table items, by session id, as DynamoDB holds them. */
  readonly rows: ReadonlyMap<string, Record<string, unknown>>;
  readonly bus: readonly EventEnvelope[];
  readonly audit: readonly EventEnvelope[];
  readonly minted: readonly Minted[];
  /** Access key ids the vend API handed out in a response (201/200). */
  readonly handedOut: ReadonlySet<string>;
}

/**
 * Every violation of the race's invariants, one line each (empty = none), and who won. Pure: the "broken on
 * purpose" test runs it on a pipeline with a deliberately unconditional writer and a vend without its re-read.
 */
const checkRace = (record: RaceRecord) => {
  const violations: string[] = [];
  const winners: Record<TerminalWinner, number> = { revoke: 0, sweeper: 0, workflow: 0, lazy: 0 };
  const ofSession = (events: readonly EventEnvelope[], sessionId: string) =>
    events.filter((e) => sessionIdOf(e) === sessionId);
  for (const sessionId of record.sessionIds) {
    const row = record.rows.get(sessionId);
    const status = row?.status;
    if (!isTerminalStatus(status)) {
      violations.push(`${sessionId}: table status ${String(status)}, not one terminal status`);
      continue;
    }
    const stamps = [row?.revokedAt, row?.expiredAt].filter((stamp) => stamp !== undefined);
    if (stamps.length !== 1) violations.push(`${sessionId}: ${stamps.length} terminal stamps on the row`);
    const winner: TerminalWinner | undefined =
      status === 'revoked'
        ? 'revoke'
        : row?.expiredReason === 'sweeper' ||
            row?.expiredReason === 'workflow' ||
            row?.expiredReason === 'lazy'
          ? row.expiredReason
          : undefined;
    if (winner) winners[winner] += 1;
    else violations.push(`${sessionId}: expired for an unexpected reason ${String(row?.expiredReason)}`);
    const expected = status === 'revoked' ? 'SessionRevoked' : 'SessionExpired';
    for (const [where, events] of [
      ['bus', record.bus],
      ['audit log', record.audit],
    ] as const) {
      const mine = ofSession(events, sessionId);
      const terminal = mine.filter((e) => TERMINAL_EVENTS.has(e['detail-type']));
      if (terminal.length !== 1 || terminal[0]?.['detail-type'] !== expected) {
        violations.push(
          `${sessionId}: ${where} has [${terminal.map((e) => e['detail-type']).join(', ')}], the table says ${String(status)}`,
        );
      } else if (
        expected === 'SessionExpired' &&
        (terminal[0]?.detail as { reason?: unknown } | undefined)?.reason !== row?.expiredReason
      ) {
        violations.push(`${sessionId}: ${where} announces another expiry reason than the row's`);
      }
      const intoTerminal = mine.filter(
        (e) =>
          e['detail-type'] === 'SessionStateChanged' &&
          isTerminalStatus((e.detail as { toStatus?: unknown }).toStatus),
      );
      if (intoTerminal.length !== 1) {
        violations.push(
          `${sessionId}: ${where} audits ${intoTerminal.length} transitions into a terminal status`,
        );
      }
    }
  }
  const mintedByKey = new Map(record.minted.map((m) => [m.credentials.AccessKeyId, m]));
  let afterTerminal = 0;
  for (const key of record.handedOut) {
    const mint = mintedByKey.get(key);
    if (mint === undefined) {
      violations.push(`credential ${key.slice(0, 15)}… handed out but never minted`);
    } else if (mint.rowAtMint !== 'active') {
      afterTerminal += 1;
      violations.push(
        `${mint.sessionId}: credential handed out after the terminal write (row ${mint.rowAtMint})`,
      );
    }
  }
  return { violations, winners, afterTerminal };
};

/** Everything the run left on the bus, in the audit log and in the tables, for the checker and the secrets scan. */
const collect = async (
  sessionIds: readonly string[],
  handedOut: ReadonlySet<string>,
): Promise<RaceRecord> => {
  const rows = new Map<string, Record<string, unknown>>();
  let start: Record<string, never> | undefined;
  do {
    const page = await tableReader.send(
      new ScanCommand({
        TableName: stack.tables.SessionsTable,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const row = unmarshall(item);
      rows.set(String(row.sessionId), row);
    }
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return { sessionIds, rows, bus: [...stack.bus.events], audit: auditLog(), minted: [...minted], handedOut };
};

/**
 * Waits for every session's terminal event and for the executions about these sessions (stopped lifecycles,
 * fan-outs), then a quiet spell in which a duplicate announcement would show.
 */
const settle = async (sessionIds: readonly string[], quietMs = QUIET_MS) => {
  await eventually(
    'a terminal event for every session',
    () =>
      sessionIds.filter(
        (id) => !stack.bus.events.some((e) => sessionIdOf(e) === id && TERMINAL_EVENTS.has(e['detail-type'])),
      ).length,
    (missing) => missing === 0,
  );
  const ours = (name: string) => sessionIds.some((id) => name.includes(id));
  await Promise.all([...stack.workflows.executions.values()].filter((e) => ours(e.name)).map((e) => e.done));
  await sleep(quietMs);
  // The bus records an event before its targets have run: the audit file catches up with it.
  const mine = (events: readonly EventEnvelope[]) =>
    events.filter((e) => sessionIds.includes(sessionIdOf(e) ?? '')).length;
  await eventually(
    'the audit log to hold every event of these sessions',
    () => mine(auditLog()) - mine(stack.bus.events),
    (behind) => behind >= 0,
  );
};

/** Active rows written directly, `createdAt` in the past so that they expire at `expiresAt` (whole seconds). */
const seedSession = async (sessionId: string, expiresAt: number, atCap: boolean): Promise<Session> => {
  const session = newSession({
    sessionId,
    caller: OWNER,
    profile: 'dev',
    roleArn: DEV.roleArn,
    sourceIdentity: buildSourceIdentity({ user: OWNER.user, requestId: `race-${sessionId.slice(0, 8)}` }),
    // At the cap the idle window equals the lifetime: expiresAt = maxExpiresAt, where the lifecycle wakes.
    policy: {
      idleTimeoutSeconds: DEV.idleTimeoutSeconds,
      maxLifetimeSeconds: atCap ? DEV.idleTimeoutSeconds : DEV.maxLifetimeSeconds,
    },
    now: new Date(expiresAt - DEV.idleTimeoutSeconds * 1000),
  });
  await stack.store.create(session);
  return session;
};

const idOf = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(8, '0')}`.padEnd(32, '0');

beforeAll(async () => {
  stack = await startLocalStack({
    // The run's DynamoDB Local (test/support/global-setup.ts): no second Java process to wait for.
    dynamoEndpoint: inject('dynamoEndpoint'),
    // The stack's clock is the wall clock: contenders are timed in real milliseconds around expiresAt.
    timeScale: 1,
    profiles: LOCAL_PROFILES,
    auditLogPath: join(tmpdir(), `sentinel-races-audit-${process.pid}-${Date.now()}.jsonl`),
    logLevel: 'SILENT',
    batchingWindowMs: 20,
    onNotification: () => undefined,
    wrap: { issuer: observedIssuer },
  });
  tableReader = new DynamoDBClient(localClientConfig(stack.dynamo.endpoint));
}, 90_000);

afterAll(async () => {
  tableReader?.destroy();
  await stack?.stop();
});

describe('races at the end of a session', () => {
  it(`${SESSIONS} sessions, each hit at once by revoke, sweeper, lifecycle, lazy expiry and refresh: one end, one announcement, no credential after it`, async () => {
    const handedOut = new Set<string>();
    const firstPlanned: Record<Contender, number> = {
      refresh: 0,
      revoke: 0,
      lazy: 0,
      sweeper: 0,
      workflow: 0,
    };
    const answers: Record<string, number> = {};
    let latestStartMs = 0;
    const at = (instant: number, contender: () => Promise<void>) =>
      sleep(Math.max(0, instant - stack.clock.now().getTime())).then(() => {
        latestStartMs = Math.max(latestStartMs, stack.clock.now().getTime() - instant);
        return contender();
      });
    const tally = (name: string) => {
      answers[name] = (answers[name] ?? 0) + 1;
    };
    const vend = async (sessionId: string) => {
      const answer = await refresh(sessionId);
      const key = handedOutKey(answer);
      if (key) handedOut.add(key);
      tally(`refresh ${answer.status}${answer.body.code ? ` ${String(answer.body.code)}` : ''}`);
    };
    // Warm-up: one session through every path first, so the first group does not race a cold stack.
    // It also measures this machine's pace: one refresh's round trip is the unit every offset below is drawn
    // in, so the contenders overlap as much on a loaded machine as on an idle one.
    const warm = await seedSession(idOf('f', 0), Date.now() + 600_000, false);
    const roundTrips: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      expect((await refresh(warm.sessionId)).status).toBe(200);
      roundTrips.push(performance.now() - started);
    }
    const unit = Math.min(MAX_UNIT_MS, Math.max(5, roundTrips.sort((a, b) => a - b)[2] ?? 5));
    const within = (from: number, to: number) => Math.round(from * unit + random() * (to - from) * unit);
    expect((await revoke(warm.sessionId, 'warm-up')).status).toBe(200);
    await stack.workflows.runSweeper();
    await settle([warm.sessionId], 0);

    const sessionIds: string[] = [];
    for (let group = 0; group < GROUPS; group++) {
      // Prepare: the group's rows, expiring together at the next whole second at least LEAD_MS away.
      const expiry = Math.ceil((stack.clock.now().getTime() + Math.max(LEAD_MS, 4 * unit)) / 1000) * 1000;
      const sessions = await Promise.all(
        Array.from({ length: SESSIONS / GROUPS }, (_, i) =>
          seedSession(idOf('a', group * 1000 + i), expiry, random() < AT_CAP_SHARE),
        ),
      );
      sessionIds.push(...sessions.map((s) => s.sessionId));

      // Act: every contender at its own instant around expiresAt. The PRNG picks who is planned first (and so
      // can win however fast the others are); the rest follow at their own instants tens of milliseconds later,
      // close enough to overlap, so the start order differs from session to session.
      const sweeperAt = expiry + within(0, 0.5);
      const contenders: Promise<void>[] = [];
      for (const session of sessions) {
        const atCap = session.maxExpiresAt === session.expiresAt;
        // At the cap the lifecycle wakes at expiresAt whatever is planned, so only a revocation before it can
        // win; off the cap a refresh can be served, but only before expiresAt.
        const choices: readonly Contender[] = atCap
          ? ['workflow', 'revoke']
          : ['refresh', 'revoke', 'lazy', 'sweeper'];
        const first = choices[intIn(random, 0, choices.length - 1)] ?? 'revoke';
        const firstAt = {
          refresh: expiry - within(0.3, 1.5),
          revoke: expiry + within(-1, 0.2),
          lazy: expiry + within(0, 0.3),
          sweeper: sweeperAt,
          workflow: expiry,
        }[first];
        // The sweeper's writes come after its queries: the others wait a little longer behind it.
        const later = () => firstAt + (first === 'sweeper' ? within(1, 3) : within(0.3, 2));
        firstPlanned[first] += 1;
        contenders.push(at(first === 'refresh' ? firstAt : later(), () => vend(session.sessionId)));
        // A lazy expiry is a refresh at or after expiresAt.
        contenders.push(
          at(first === 'lazy' ? firstAt : Math.max(expiry, later()), () => vend(session.sessionId)),
        );
        contenders.push(
          at(first === 'revoke' ? firstAt : later(), async () => {
            const answer = await revoke(session.sessionId, 'race');
            tally(`revoke ${answer.status}`);
          }),
        );
        if (atCap) {
          // Its execution wakes at the cap: the consumer started it on INSERT (its Wait ends at expiresAt), or,
          // on a machine too loaded to have done so yet, it starts here with the same input and wakes at once.
          const { sessionId, maxExpiresAt, user, profile } = session;
          contenders.push(
            at(first === 'workflow' ? firstAt : later(), async () => {
              const started = await stack.workflows.startLifecycle({
                sessionId,
                maxExpiresAt,
                user,
                profile,
              });
              tally(`lifecycle ${started.alreadyStarted ? 'started on INSERT' : 'started late'}`);
            }),
          );
        }
      }
      // The sweeper run for the second the group expires, as the schedule starts it (its now is that instant).
      contenders.push(
        at(sweeperAt, async () => {
          const run = await stack.workflows.runSweeper(new Date(expiry));
          tally(`sweeper ${run.status}`);
        }),
      );
      await Promise.all(contenders);
    }
    await settle(sessionIds);

    // Assess
    const record = await collect(sessionIds, handedOut);
    const { violations, winners, afterTerminal } = checkRace(record);
    const withheld = minted.filter((m) => sessionIds.includes(m.sessionId) && m.rowAtMint !== 'active');
    const refreshedSessions = new Set(
      minted.filter((m) => handedOut.has(m.credentials.AccessKeyId)).map((m) => m.sessionId),
    );
    const terminalEvents = record.bus.filter(
      (e) => sessionIds.includes(sessionIdOf(e) ?? '') && TERMINAL_EVENTS.has(e['detail-type']),
    );
    console.log(
      `races: sessions=${SESSIONS} winners revoke=${winners.revoke} sweeper=${winners.sweeper} workflow=${winners.workflow} lazy=${winners.lazy} (sessions also refreshed=${refreshedSessions.size}) terminal-events=${terminalEvents.length} credentials-issued=${handedOut.size} minted-but-withheld=${withheld.length} credentials-after-terminal-write=${afterTerminal} planned-first=${JSON.stringify(firstPlanned)} unit-ms=${Math.round(unit)} latest-start-ms=${latestStartMs} answers=${JSON.stringify(answers)}`,
    );
    expect(violations).toEqual([]);
    expect(afterTerminal).toBe(0);
    expect(winners.revoke + winners.sweeper + winners.workflow + winners.lazy).toBe(SESSIONS);

    // Nothing the race left on the bus or in the tables holds a credential, minted or handed out.
    const hits = findSecrets(
      [
        ...record.bus.map((event, i) => ({
          where: `bus event ${i} ${event['detail-type']}`,
          text: JSON.stringify(event),
        })),
        ...[...record.rows.values()].map((row) => ({
          where: `Sessions item ${String(row.sessionId)}`,
          text: JSON.stringify(row),
        })),
      ],
      minted.map((m) => ({
        accessKeyId: m.credentials.AccessKeyId,
        secretAccessKey: m.credentials.SecretAccessKey,
        sessionToken: m.credentials.Token,
      })),
    );
    expect(hits, describeHits(hits)).toEqual([]);
  });

  it('the checker is not vacuous: it catches an unconditional expiry writer and a vend that skips its re-read', async () => {
    // Prepare: three long-lived sessions, revoked by an operator and announced.
    const far = Math.ceil(stack.clock.now().getTime() / 1000) * 1000 + 600_000;
    const doubled = await Promise.all([0, 1, 2].map((n) => seedSession(idOf('b', n), far, false)));
    const doubledIds = doubled.map((s) => s.sessionId);
    for (const id of doubledIds) expect((await revoke(id, 'broken on purpose')).status).toBe(200);
    await settle(doubledIds);

    // Act 1: an expiry writer without `status = active` in its condition, as a buggy sweeper would write.
    for (const id of doubledIds) {
      await tableReader.send(
        new UpdateItemCommand({
          TableName: stack.tables.SessionsTable,
          Key: { sessionId: { S: id } },
          UpdateExpression: 'SET #status = :expired, expiredAt = :now, expiredReason = :sweeper',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':expired': { S: 'expired' },
            ':now': { S: stack.clock.now().toISOString() },
            ':sweeper': { S: 'sweeper' },
          },
        }),
      );
    }
    await eventually(
      'the second terminal transitions on the bus',
      () =>
        stack.bus
          .eventsOf<{ sessionId: string; toStatus: string }>('SessionStateChanged')
          .filter((e) => doubledIds.includes(e.detail.sessionId) && e.detail.toStatus === 'expired').length,
      (n) => n === doubledIds.length,
    );

    // Act 2: a vend without the re-read: touch, then STS, then hand out whatever came back. An operator's
    // revocation lands while STS answers, as in the race's window.
    const skipped = await seedSession(idOf('c', 0), far, false);
    duringIssue.set(skipped.sessionId, async () => {
      expect((await revoke(skipped.sessionId, 'lands while STS answers')).status).toBe(200);
    });
    const now = stack.clock.now();
    const touched = await stack.store.touch(skipped.sessionId, {
      principalArn: OWNER.principalArn,
      now,
      extendTo: new Date(Math.floor(now.getTime() / 1000) * 1000 + 960_000).toISOString(),
    });
    expect(touched.ok).toBe(true);
    const sts = observedIssuer(new OfflineCredentialIssuer({ clock: stack.clock, warn: () => undefined }));
    const brokenHandOut = await sts.issue({
      roleArn: DEV.roleArn,
      roleSessionName: `s-${skipped.sessionId}-alice`,
      sourceIdentity: skipped.sourceIdentity,
      sessionId: skipped.sessionId,
      durationSeconds: 900,
    });
    // The same window through the real vend API: its re-read withholds the credentials.
    const guarded = await seedSession(idOf('c', 1), far, false);
    duringIssue.set(guarded.sessionId, async () => {
      expect((await revoke(guarded.sessionId, 'lands while STS answers')).status).toBe(200);
    });
    const guardedAnswer = await refresh(guarded.sessionId);
    await settle([...doubledIds, skipped.sessionId, guarded.sessionId]);

    // Assess
    const broken = checkRace(
      await collect([...doubledIds, skipped.sessionId], new Set([brokenHandOut.AccessKeyId])),
    );
    expect(broken.afterTerminal).toBe(1);
    expect(broken.violations).toEqual(
      expect.arrayContaining([
        ...doubledIds.flatMap((id) => [
          `${id}: bus has [SessionRevoked], the table says expired`,
          `${id}: bus audits 2 transitions into a terminal status`,
          `${id}: audit log audits 2 transitions into a terminal status`,
        ]),
        `${skipped.sessionId}: credential handed out after the terminal write (row revoked)`,
      ]),
    );
    expect([guardedAnswer.status, guardedAnswer.body.code, handedOutKey(guardedAnswer)]).toEqual([
      403,
      'SessionRevoked',
      undefined,
    ]);
    expect(minted.filter((m) => m.sessionId === guarded.sessionId).map((m) => m.rowAtMint)).toEqual([
      'revoked',
    ]);
    expect(checkRace(await collect([guarded.sessionId], new Set())).violations).toEqual([]);
  });
});
