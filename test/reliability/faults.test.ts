/**
 * The whole local pipeline under injected faults (test/support/fault-layer.ts): vend → DynamoDB Local → stream
 * → consumer → workflows → bus, with throttling, timeouts after writes, conditional-check failures of retried
 * writes, PutEvents partial failures and Step Functions errors on about a fifth of the calls. Clients retry as
 * the real ones do. What must hold (docs/design.md invariants 1, 2 and 7; docs/events.md "Why terminal events
 * come once"): every row ends in exactly one terminal state, every stream-announced row change reaches the
 * audit target, every terminal event is delivered, and duplicates stay inside the documented windows. Then
 * one crash point per test, each recovering, and the secrets scan over everything the run produced.
 *
 * Every fault decision comes from one seeded PRNG; the interleaving of concurrent clients and pollers does not,
 * so the figures vary a little from run to run while the checks (which hold in any interleaving) do not.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  ScanCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../local/dynamodb-local.js';
import type { EventEnvelope } from '../../local/event-bus.js';
import { LOCAL_CALLER_HEADER } from '../../local/http-api.js';
import { ManualClock } from '../../local/manual-clock.js';
import { LOCAL_PROFILES, type LocalStack, startLocalStack } from '../../local/stack.js';
import { loadTemplate, tableDefinition } from '../../local/template.js';
import { DynamoDbDenyListSource } from '../../src/adapters/dynamodb-deny-list-source.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { IamAccessEnforcer } from '../../src/adapters/iam-access-enforcer.js';
import type { CredentialIssuer, WorkflowControl } from '../../src/ports.js';
import { createVerifiedRevocationEnforcer } from '../../src/usecases/enforce-revocation.js';
import { createRevocationReconciler } from '../../src/usecases/reconcile-revocations.js';
import {
  FaultPlan,
  faultySfnWorkflowControl,
  injectDynamoDbFaults,
  injectPutEventsFaults,
} from '../support/fault-layer.js';
import { useLocalTables } from '../support/local-tables.js';
import { intIn, prng } from '../support/prng.js';
import { describeHits, findSecrets, type IssuedCredentialValues } from '../support/secret-scan.js';
import { at, CONTRACT_POLICY, makeSession } from '../support/session-store-contract.js';

const SEED = 20_261_128;
const FAULT_RATE = 0.2;
/** Sessions the soak's clients vend (about 2 minutes for 500 on 2 cores); `SENTINEL_FAULT_SESSIONS` overrides. */
const SESSIONS = Number(process.env.SENTINEL_FAULT_SESSIONS ?? 500);
if (!Number.isInteger(SESSIONS) || SESSIONS < 10) {
  throw new Error(`SENTINEL_FAULT_SESSIONS must be a whole number of at least 10, got ${SESSIONS}`);
}
const CLIENTS = 16;
/** A 1,920 s idle window passes in 4.8 s (a slow vend retried with its key still finds it); a sweep every 150 ms. */
const TIME_SCALE = 400;
const ROLE = LOCAL_PROFILES.dev.roleArn;
const PROFILES = {
  // Nobody refreshes: the sweeper ends it at its idle expiry.
  idle: { roleArn: ROLE, maxDurationSeconds: 3600, idleTimeoutSeconds: 1920, maxLifetimeSeconds: 3600 },
  // Idle window = lifetime: it ends at its hard cap, where the lifecycle execution wakes.
  cap: { roleArn: ROLE, maxDurationSeconds: 3600, idleTimeoutSeconds: 1920, maxLifetimeSeconds: 1920 },
  // Long enough never to expire during the run: its owner revokes it.
  revoke: { roleArn: ROLE, maxDurationSeconds: 3600, idleTimeoutSeconds: 7200, maxLifetimeSeconds: 7200 },
} as const;
type Outcome = keyof typeof PROFILES;

const plan = new FaultPlan({ seed: SEED, rate: FAULT_RATE });
const logLines: string[] = [];
const issued: IssuedCredentialValues[] = [];
/** One-shot crash points, armed by a test, keyed by session id or profile. */
const crashes = {
  /** (b) the consumer dies right after StartExecution of a lifecycle of this user succeeded. */
  consumerAfterStartOf: new Set<string>(),
  consumerDiedFor: [] as string[],
  /** (a) the next vend dies after the row write, before AssumeRole returns. */
  vendAfterRowWrite: false,
  deadVendSessions: [] as string[],
  /** The hung AssumeRole calls of dead vends, released when the test is over. */
  hung: [] as (() => void)[],
};
let stack: LocalStack;
let checks: DynamoDBClient;
/** What the soak found, for the known-gap check after it. */
let soak: { readonly report: EventLogReport; readonly rows: number } | undefined;

class ProcessCrash extends Error {
  override readonly name = 'Runtime.ExitError';
}

const crashingWorkflows = (inner: WorkflowControl): WorkflowControl => ({
  startLifecycle: async (input) => {
    const started = await inner.startLifecycle(input);
    if (crashes.consumerAfterStartOf.delete(input.user)) {
      crashes.consumerDiedFor.push(input.sessionId);
      throw new ProcessCrash('consumer died after StartExecution');
    }
    return started;
  },
  stopLifecycle: (sessionId, cause) => inner.stopLifecycle(sessionId, cause),
  startRevocationFanout: (input) => inner.startRevocationFanout(input),
});

/** AssumeRole that never answers, for a vend armed to die: the process is gone, nothing after it runs. */
const crashingIssuer = (inner: CredentialIssuer): CredentialIssuer => ({
  issue: async (request, options) => {
    if (crashes.vendAfterRowWrite) {
      crashes.vendAfterRowWrite = false;
      // Dies once the row is written: the conditional put runs beside AssumeRole.
      while ((await stack.store.get(request.sessionId)) === undefined) await sleep(10);
      crashes.deadVendSessions.push(request.sessionId);
      await new Promise<void>((resolve) => crashes.hung.push(resolve));
      throw new ProcessCrash('vend died before AssumeRole returned');
    }
    return inner.issue(request, options);
  },
});

beforeAll(async () => {
  stack = await startLocalStack({
    timeScale: TIME_SCALE,
    profiles: PROFILES,
    auditLogPath: join(tmpdir(), `sentinel-faults-audit-${process.pid}-${Date.now()}.jsonl`),
    logLevel: 'INFO',
    logSink: (line) => logLines.push(line),
    onNotification: () => undefined,
    wrap: {
      dynamodb: injectDynamoDbFaults(plan),
      consumerWorkflows: (local) => crashingWorkflows(faultySfnWorkflowControl(plan, local)),
      issuer: crashingIssuer,
    },
  });
  injectPutEventsFaults(plan, stack.bus);
  checks = new DynamoDBClient(localClientConfig(stack.dynamo.endpoint));
  // DynamoDB Local numbers stream records across tables, and the poller's first TRIM_HORIZON iterator fails
  // for good (TrimmedDataAccessException) when the first write of the run is not a Sessions row (a keyed
  // vend writes its idempotency record first). One unkeyed vend, read by the poller, moves it past that.
  const warmUp = await post('/v1/sessions', 'arn:aws:iam::123456789012:user/warm-up', { profile: 'idle' });
  remember(warmUp.body);
  while (stack.poller.invocations === 0) await sleep(50);
}, 60_000);

afterAll(async () => {
  for (const release of crashes.hung) release();
  checks?.destroy();
  await stack?.stop();
});

// ------------------------------------------------------------------------------------------------ clients

interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const post = async (
  path: string,
  caller: string,
  body: unknown,
  headers: Record<string, string> = {},
  // The vend function's timeout: a slower answer is a lost one.
  timeoutMs = 10_000,
) => {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_CALLER_HEADER]: caller, ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * As a careful client does: a 5xx or a lost answer is retried with the same Idempotency-Key, and so is a 409
 * IdempotencyRequestInProgress (an attempt whose record is still in progress: "retry shortly").
 */
const withRetries = async (call: () => Promise<ApiAnswer>, attempts = 10): Promise<ApiAnswer | undefined> => {
  let last: ApiAnswer | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      last = await call();
      const inProgress = last.status === 409 && last.body.code === 'IdempotencyRequestInProgress';
      if (last.status < 500 && !inProgress) return last;
    } catch {
      last = undefined;
    }
    await sleep(Math.min(2_000, 50 * 2 ** attempt));
  }
  return last;
};

const remember = (body: Record<string, unknown>): string => {
  const credentials = body.credentials as Record<string, string>;
  issued.push({
    accessKeyId: String(credentials.AccessKeyId),
    secretAccessKey: String(credentials.SecretAccessKey),
    sessionToken: String(credentials.Token),
  });
  return String(body.sessionId);
};

interface ClientTally {
  vended: number;
  vendGaveUp: number;
  revoked: number;
  revokeFoundEnded: number;
  revokeGaveUp: number;
}

const runClient = async (index: number, outcome: Outcome, tally: ClientTally): Promise<void> => {
  const caller = `arn:aws:iam::123456789012:user/soak-${index % 40}`;
  let created: ApiAnswer | undefined;
  // A replay that finds its session already ended (410) means: start a new one, with a new key.
  for (let round = 0; round < 3 && created?.status !== 201; round++) {
    const key = `soak-${SEED}-${index}-${round}`;
    created = await withRetries(() =>
      post('/v1/sessions', caller, { profile: outcome }, { 'idempotency-key': key }),
    );
    if (created?.status !== 410) break;
  }
  if (created?.status !== 201) {
    tally.vendGaveUp++;
    return;
  }
  tally.vended++;
  const sessionId = remember(created.body);
  if (outcome !== 'revoke') return;
  const revoked = await withRetries(() =>
    post(`/v1/sessions/${sessionId}/revoke`, caller, { reason: 'soak' }),
  );
  if (revoked?.status === 200) tally.revoked++;
  else if (revoked?.status === 409) tally.revokeFoundEnded++;
  else tally.revokeGaveUp++;
};

// ------------------------------------------------------------------------------------------------ checker

interface SessionRow {
  readonly sessionId: string;
  readonly status: string;
  readonly revokedAt?: string;
  readonly expiredAt?: string;
  readonly expiredReason?: string;
}

interface Detail {
  readonly sessionId?: string;
  readonly fromStatus?: string | null;
  readonly toStatus?: string;
  readonly streamEventId?: string;
}

interface EventLogReport {
  /** Row changes the stream must announce that never reached the audit target. */
  readonly lostAuditEvents: readonly string[];
  /** Rows not in exactly one terminal state. */
  readonly notTerminal: readonly string[];
  /** Terminal rows without their terminal event (or with the other one). */
  readonly missingTerminal: readonly string[];
  /** Deliveries of a terminal event beyond the first, by (sessionId, detail-type). */
  readonly duplicateTerminal: number;
  /** Re-deliveries of audit events, by streamEventId (the documented de-duplication key). */
  readonly duplicateAudit: number;
  /** A second, different stream record announcing the same transition: never allowed. */
  readonly transitionsAnnouncedTwice: readonly string[];
}

const TERMINAL_TYPE: Readonly<Record<string, string>> = {
  revoked: 'SessionRevoked',
  expired: 'SessionExpired',
};

/** Holds an event log (what the audit target received) against the table's final rows. */
const checkEventLog = (rows: readonly SessionRow[], log: readonly EventEnvelope[]): EventLogReport => {
  const bySession = new Map<string, EventEnvelope<Detail>[]>();
  for (const event of log as EventEnvelope<Detail>[]) {
    const id = event.detail.sessionId;
    if (id === undefined) continue;
    bySession.set(id, [...(bySession.get(id) ?? []), event]);
  }
  const lost: string[] = [];
  const notTerminal: string[] = [];
  const missingTerminal: string[] = [];
  const twice: string[] = [];
  let duplicateTerminal = 0;
  let duplicateAudit = 0;
  for (const row of rows) {
    const events = bySession.get(row.sessionId) ?? [];
    const terminalStates = [row.revokedAt, row.expiredAt].filter((at) => at !== undefined).length;
    if (!(row.status in TERMINAL_TYPE) || terminalStates !== 1)
      notTerminal.push(`${row.sessionId} ${row.status}`);
    const audits = events.filter((e) => e['detail-type'] === 'SessionStateChanged');
    for (const [from, to] of [
      [null, 'active'],
      ['active', row.status],
    ] as const) {
      const announced = audits.filter(
        (e) => (e.detail.fromStatus ?? null) === from && e.detail.toStatus === to,
      );
      const records = new Set(announced.map((e) => e.detail.streamEventId));
      if (announced.length === 0) lost.push(`${row.sessionId} ${from ?? 'none'}→${to}`);
      if (records.size > 1) twice.push(`${row.sessionId} ${from ?? 'none'}→${to}`);
      duplicateAudit += announced.length - records.size;
    }
    const terminals = events.filter(
      (e) => e['detail-type'] === 'SessionRevoked' || e['detail-type'] === 'SessionExpired',
    );
    const expected = TERMINAL_TYPE[row.status];
    if (terminals.length === 0 || terminals.some((e) => e['detail-type'] !== expected)) {
      missingTerminal.push(
        `${row.sessionId} ${row.status}: ${terminals.map((e) => e['detail-type']).join(',') || 'none'}`,
      );
    }
    duplicateTerminal += Math.max(0, terminals.length - 1);
  }
  return {
    lostAuditEvents: lost,
    notTerminal,
    missingTerminal,
    duplicateTerminal,
    duplicateAudit,
    transitionsAnnouncedTwice: twice,
  };
};

const scanTable = async (tableName: string): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await checks.send(
      new ScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items;
};

const sessionRows = async (): Promise<SessionRow[]> =>
  (await scanTable(stack.tables.SessionsTable)) as unknown as SessionRow[];

const auditLog = (): EventEnvelope[] =>
  readFileSync(stack.auditLogPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EventEnvelope);

/**
 * Until every row is terminal and announced, or nothing has changed for 3 s (what is missing then stays
 * missing: its stream record was given up on), or the deadline: the pipeline is asynchronous by design.
 */
const settle = async (deadlineMs: number): Promise<EventLogReport> => {
  const deadline = Date.now() + deadlineMs;
  let last = '';
  let stableSince = Date.now();
  for (;;) {
    const report = checkEventLog(await sessionRows(), auditLog());
    const done =
      report.notTerminal.length === 0 &&
      report.lostAuditEvents.length === 0 &&
      report.missingTerminal.length === 0;
    const state = JSON.stringify([report, stack.bus.events.length]);
    if (state !== last) {
      last = state;
      stableSince = Date.now();
    }
    const quiet = report.notTerminal.length === 0 && Date.now() - stableSince > 3_000;
    if (done || quiet || Date.now() > deadline) return report;
    await sleep(250);
  }
};

// ------------------------------------------------------------------------------------------------ tests

describe('the pipeline under injected faults', () => {
  it(
    `keeps every session's end and its announcements over ${SESSIONS} sessions with ~${FAULT_RATE * 100} % of calls faulted`,
    async () => {
      // Arrange
      const next = prng(SEED);
      const outcomes: Outcome[] = Array.from(
        { length: SESSIONS },
        () => (['idle', 'cap', 'revoke'] as const)[intIn(next, 0, 2)] ?? 'idle',
      );
      const tally: ClientTally = {
        vended: 0,
        vendGaveUp: 0,
        revoked: 0,
        revokeFoundEnded: 0,
        revokeGaveUp: 0,
      };
      const started = Date.now();

      // Act
      plan.enabled = true;
      let cursor = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          for (let index = cursor++; index < SESSIONS; index = cursor++) {
            await runClient(index, outcomes[index] ?? 'idle', tally);
          }
        }),
      );
      const clientsDoneMs = Date.now() - started;
      const report = await settle(45_000);
      plan.enabled = false;
      const rows = await sessionRows();

      // Assess
      const byKind = [...plan.injected.entries()].map(([kind, n]) => `${kind}=${n}`).join(' ');
      const reasons = new Map<string, number>();
      for (const row of rows) {
        const key = row.status === 'expired' ? `expired:${row.expiredReason ?? '?'}` : row.status;
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
      console.log(
        `faults: sessions=${rows.length} (clients ${SESSIONS}: vended ${tally.vended}, vend gave up ${tally.vendGaveUp}, revoked ${tally.revoked}, revoke found ended ${tally.revokeFoundEnded}, revoke gave up ${tally.revokeGaveUp}) ` +
          `ends {${[...reasons].map(([k, n]) => `${k}=${n}`).join(' ')}} faults=${plan.total} {${byKind}} ` +
          `lost audit events=${report.lostAuditEvents.length} not terminal=${report.notTerminal.length} terminal missing=${report.missingTerminal.length} ` +
          `terminal duplicated=${report.duplicateTerminal} (window: (sessionId, detail-type), only a crash between PutEvents and remembering the record) ` +
          `audit re-delivered=${report.duplicateAudit} (window: streamEventId) transitions announced twice=${report.transitionsAnnouncedTwice.length} ` +
          `stream records given up=${stack.poller.discarded} invocations=${stack.poller.invocations} bus=${stack.bus.events.length} clients ${clientsDoneMs} ms, total ${Date.now() - started} ms`,
      );
      soak = { report, rows: rows.length };
      // Most clients get through (the rest met a session that ended while they retried, and gave up).
      expect(tally.vended).toBeGreaterThan(SESSIONS / 2);
      // Invariant 1: every row, vended or orphaned by a failed vend, ends once.
      expect(report.notTerminal).toEqual([]);
      // Invariant 2: one stream record per transition, and no terminal event twice.
      expect(report.transitionsAnnouncedTwice).toEqual([]);
      // A terminal event repeats only inside the documented window: the record's work ran again because its
      // idempotency record could not be completed (a fault on that table) after PutEvents had succeeded.
      expect(report.duplicateTerminal).toBeLessThanOrEqual(
        plan.faultsOn(stack.tables.StreamIdempotencyTable),
      );
      // Invariant 7: whatever did not reach the bus was at least reported (given up to the on-failure destination).
      expect(report.lostAuditEvents.length).toBeLessThanOrEqual(stack.poller.discarded);
    },
    Math.max(120_000, SESSIONS * 1000),
  );

  /**
   * Every record that the pipeline must announce reaches the bus, though its consumer idempotency record may
   * have been left in progress by an attempt that failed (its put timed out after it was written, or the
   * delete after a failed record failed): a redelivery takes that marker over (registerStreamInvocation).
   */
  it('loses no audit event and delivers every terminal event', () => {
    if (!soak) throw new Error('the soak did not run');
    expect(soak.report.lostAuditEvents).toEqual([]);
    expect(soak.report.missingTerminal).toEqual([]);
  });

  it('the checker reports a terminal event removed, one duplicated by another stream record, and a lost audit event', async () => {
    // Arrange
    const rows = await sessionRows();
    const log = auditLog();
    const isTerminal = (e: EventEnvelope) =>
      e['detail-type'] === 'SessionRevoked' || e['detail-type'] === 'SessionExpired';
    const base = checkEventLog(rows, log);
    const intact = (e: EventEnvelope) => {
      const id = (e.detail as Detail).sessionId ?? '-';
      return ![...base.missingTerminal, ...base.lostAuditEvents].some((problem) => problem.startsWith(id));
    };
    // A session announced once: removing one of a duplicated pair would leave it announced.
    const terminalsOf = (e: EventEnvelope) =>
      log.filter(
        (other) => isTerminal(other) && (other.detail as Detail).sessionId === (e.detail as Detail).sessionId,
      ).length;
    const removed = log.find((e) => isTerminal(e) && intact(e) && terminalsOf(e) === 1);
    const stateChange = log.find((e) => e['detail-type'] === 'SessionStateChanged' && intact(e)) as
      | EventEnvelope<Detail>
      | undefined;
    if (!removed || !stateChange) throw new Error('no session of the soak was announced whole');

    // Act
    const withoutTerminal = checkEventLog(
      rows,
      log.filter((e) => e !== removed),
    );
    const withDuplicate = checkEventLog(rows, [...log, removed]);
    const withSecondRecord = checkEventLog(rows, [
      ...log,
      { ...stateChange, detail: { ...stateChange.detail, streamEventId: 'another-record' } },
    ]);
    const withoutAudit = checkEventLog(
      rows,
      log.filter((e) => (e.detail as Detail).streamEventId !== stateChange.detail.streamEventId),
    );

    // Assess
    expect(withoutTerminal.missingTerminal).toHaveLength(base.missingTerminal.length + 1);
    expect(withDuplicate.duplicateTerminal).toBe(base.duplicateTerminal + 1);
    expect(withSecondRecord.transitionsAnnouncedTwice).toHaveLength(
      base.transitionsAnnouncedTwice.length + 1,
    );
    expect(withoutAudit.lostAuditEvents).toHaveLength(base.lostAuditEvents.length + 1);
  });
});

const eventsOf = (sessionId: string, detailType: string, events: readonly EventEnvelope[]) =>
  events.filter((e) => e['detail-type'] === detailType && (e.detail as Detail).sessionId === sessionId);

describe('crash points, each recovering', () => {
  it('(a) vend dies after the row write and before AssumeRole returns: the retry with its key gets a session, the orphan row ends once', async () => {
    // Arrange
    const caller = 'arn:aws:iam::123456789012:user/crash-a';
    const key = `crash-a-${SEED}`;
    crashes.vendAfterRowWrite = true;

    // Act: the first attempt never answers (the process is gone); the client retries with its key
    await expect(
      post('/v1/sessions', caller, { profile: 'idle' }, { 'idempotency-key': key }, 1_500),
    ).rejects.toThrow();
    const retried = await withRetries(
      () => post('/v1/sessions', caller, { profile: 'idle' }, { 'idempotency-key': key }),
      16,
    );
    const orphan = crashes.deadVendSessions[0] ?? '';
    const events = await settleOne(orphan, (all) => eventsOf(orphan, 'SessionExpired', all).length > 0);

    // Assess: the dead attempt's in-progress record lapsed with its invocation, and the retry ran anew
    expect(retried?.status).toBe(201);
    const sessionId = remember(retried?.body ?? {});
    expect(sessionId).not.toBe(orphan);
    expect((await stack.store.get(orphan))?.status).toBe('expired');
    expect(eventsOf(orphan, 'SessionExpired', events)).toHaveLength(1);
    expect(eventsOf(orphan, 'SessionCreated', events)).toHaveLength(0);
    expect((await stack.store.get(sessionId))?.status).toBe('active');
  });

  it('(b) the consumer dies after StartExecution and before reporting its batch: the redelivered record starts nothing twice and announces once', async () => {
    // Arrange
    const caller = 'arn:aws:iam::123456789012:user/crash-b';
    const invocationsBefore = stack.poller.invocations;
    crashes.consumerAfterStartOf.add('crash-b');
    const created = await post('/v1/sessions', caller, { profile: 'revoke' });
    const sessionId = remember(created.body);

    // Act
    const events = await settleOne(
      sessionId,
      (all) => eventsOf(sessionId, 'SessionStateChanged', all).length > 0,
    );

    // Assess
    expect(stack.workflows.executions.get(`SessionLifecycleStateMachine/${sessionId}`)?.status).toBe(
      'RUNNING',
    );
    expect(eventsOf(sessionId, 'SessionStateChanged', events)).toHaveLength(1);
    expect(stack.poller.invocations).toBeGreaterThan(invocationsBefore);
  });

  it('(c) a workflow task is retried after it succeeded: the expiry is written once and announced once', async () => {
    // Arrange: the first expire write of the session (the lifecycle at its cap, or the sweeper) succeeds and
    // then answers a throttle, which both state machines retry
    const caller = 'arn:aws:iam::123456789012:user/crash-c';
    const created = await post('/v1/sessions', caller, { profile: 'cap' });
    const sessionId = remember(created.body);
    const fired = plan.failAfterWriteOnce(
      (command, input) =>
        command === 'UpdateItemCommand' &&
        JSON.stringify(input.Key ?? {}).includes(sessionId) &&
        JSON.stringify(input.ExpressionAttributeValues ?? {}).includes('"expired"'),
      () =>
        new ProvisionedThroughputExceededException({ message: 'Injected after the write', $metadata: {} }),
    );

    // Act
    await Promise.race([
      fired,
      sleep(30_000).then(() => {
        throw new Error('no expire write of the session was seen');
      }),
    ]);
    const events = await settleOne(sessionId, (all) => eventsOf(sessionId, 'SessionExpired', all).length > 0);
    await sleep(500);

    // Assess
    const row = await stack.store.get(sessionId);
    expect(row?.status).toBe('expired');
    expect(eventsOf(sessionId, 'SessionExpired', auditLog())).toHaveLength(1);
    expect(
      eventsOf(sessionId, 'SessionStateChanged', events).filter(
        (e) => (e.detail as Detail).toStatus === 'expired',
      ),
    ).toHaveLength(1);
  });
});

/** The audit events of one session once `done` holds for them (20 s at most). */
const settleOne = async (
  sessionId: string,
  done: (events: readonly EventEnvelope[]) => boolean,
): Promise<EventEnvelope[]> => {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const events = auditLog().filter((e) => (e.detail as Detail).sessionId === sessionId);
    if (done(events) || Date.now() > deadline) return events;
    await sleep(100);
  }
};

/**
 * (d) on DynamoDB Local with the real IAM enforcer (IAM mocked as a role that keeps the policies it is put), its
 * deny-list table from template.yaml, and the real reconciler use case. A month of 2092 keeps it clear of the
 * stack's time line.
 */
const denyTables = useLocalTables();
const iam = mockClient(IAMClient);

describe('crash point (d): the enforcer dies after IAM accepted the policy and before recording it', () => {
  it('the reconciler finds the list not accepted by IAM and re-enforces it', async () => {
    // Arrange
    const policies = new Map<string, string>();
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [], IsTruncated: false });
    iam.on(PutRolePolicyCommand).callsFake((input: { RoleName: string; PolicyDocument: string }) => {
      policies.set(input.RoleName, input.PolicyDocument);
      return {};
    });
    const denyListTable = `${denyTables.names.SessionsTable}-deny-list`;
    await denyTables.client.send(
      new CreateTableCommand(tableDefinition(loadTemplate(), 'DenyListTable', denyListTable).create),
    );
    await waitUntilTableExists({ client: denyTables.client, maxWaitTime: 30 }, { TableName: denyListTable });
    // The enforcer's own client dies on its first "IAM accepted version n" write, before sending it.
    const dyingClient = new DynamoDBClient(localClientConfig(denyTables.endpoint));
    let died = 0;
    dyingClient.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { readonly UpdateExpression?: string };
        if (died === 0 && input.UpdateExpression?.includes('enforcedVersion')) {
          died++;
          throw new ProcessCrash('enforcer died before recording what IAM accepted');
        }
        return next(args);
      },
      { step: 'initialize', name: 'dieBeforeRecording' },
    );
    const clock = new ManualClock(new Date(Date.UTC(2092, 2, 1, 12)));
    const roleArn = 'arn:aws:iam::123456789012:role/sentinel-crash-d';
    const enforcerOn = (documentClient: DynamoDBDocumentClient) =>
      createVerifiedRevocationEnforcer({
        enforcer: new IamAccessEnforcer({
          iam: new IAMClient({ region: 'us-east-1' }),
          documentClient,
          tableName: denyListTable,
          clock,
        }),
        sessions: store,
        profiles: [{ name: 'readonly', roleArn, policy: CONTRACT_POLICY }],
        clock,
      });
    const store = new DynamoDbSessionStore({
      documentClient: denyTables.documentClient,
      tableName: denyTables.names.SessionsTable,
    });
    const session = { ...makeSession({ now: at(clock.now(), -600) }), roleArn };
    await store.create(session);
    const revoked = await store.revoke(session.sessionId, {
      by: 'ops',
      reason: 'crash-d',
      now: at(clock.now(), -120),
    });
    if (!revoked.ok) throw new Error('fixture');
    const enforcement = { sessionId: session.sessionId, roleArn, expiresAt: session.expiresAt };

    // Act: the fan-out's enforcement dies after PutRolePolicy; a pass of the reconciler follows
    await expect(enforcerOn(DynamoDBDocumentClient.from(dyingClient))(enforcement)).rejects.toThrow(
      ProcessCrash,
    );
    const denyListRow = async () =>
      (
        await denyTables.documentClient.send(
          new GetCommand({ TableName: denyListTable, Key: { roleArn }, ConsistentRead: true }),
        )
      ).Item;
    const afterCrash = await denyListRow();
    const report = await createRevocationReconciler({
      store,
      denyLists: new DynamoDbDenyListSource({
        documentClient: denyTables.documentClient,
        tableName: denyListTable,
      }),
      enforce: enforcerOn(denyTables.documentClient),
      clock,
    })();

    // Assess: IAM had the policy, the row did not say so; the reconciler re-put it and recorded it
    expect(died).toBe(1);
    expect(policies.get('sentinel-crash-d')).toContain(session.sessionId);
    expect(afterCrash?.enforcedVersion).not.toBe(afterCrash?.version);
    expect(report.healed.map((healed) => [healed.sessionId, healed.reason])).toEqual([
      [session.sessionId, 'not-accepted-by-iam'],
    ]);
    const healed = await denyListRow();
    expect(healed?.enforcedVersion).toBe(healed?.version);
    dyingClient.destroy();
  });
});

describe('the secrets scan over everything the run produced', () => {
  it('finds no issued credential in logs, events, executions or tables', async () => {
    // Arrange
    const sources: { where: string; text: string }[] = [];
    for (const [i, line] of logLines.entries()) sources.push({ where: `log line ${i + 1}`, text: line });
    for (const [i, event] of stack.bus.events.entries()) {
      sources.push({ where: `bus event ${i + 1} (${event['detail-type']})`, text: JSON.stringify(event) });
    }
    for (const [name, record] of stack.workflows.executions) {
      sources.push({ where: `execution ${name} input`, text: JSON.stringify(record.input) });
      sources.push({ where: `execution ${name} output`, text: JSON.stringify(record.output ?? null) });
    }
    for (const [table, name] of Object.entries(stack.tables)) {
      if (typeof name !== 'string') continue;
      for (const [i, item] of (await scanTable(name)).entries()) {
        sources.push({ where: `${table} item ${i + 1}`, text: JSON.stringify(item) });
      }
    }

    // Act
    const hits = findSecrets(sources, issued);

    // Assess
    expect(issued.length).toBeGreaterThan(SESSIONS / 2);
    expect(sources.length).toBeGreaterThan(SESSIONS);
    expect(describeHits(hits)).toBe('');
  });
});
