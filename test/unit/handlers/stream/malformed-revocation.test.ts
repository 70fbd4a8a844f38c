/**
 * The consumer never skips a revocation: a revoked (or force-expired) row that is slightly off is still
 * enforced (fan-out started) and announced once, with what was wrong logged and counted. Only a record that
 * cannot be tied to a session fails. A terminal row turning active is alarmed and not acted on.
 */
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../local/manual-clock.js';
import {
  createLifecycleConsumer,
  type LifecycleConsumerDeps,
} from '../../../../src/handlers/stream/consume.js';
import { oncePerStreamRecord, streamIdempotencyConfig } from '../../../../src/handlers/stream/idempotency.js';
import type { RevocationFanoutInput, RevocationFanoutStart } from '../../../../src/ports.js';
import {
  eventOf,
  fakeLambdaContext,
  InMemoryCacheClient,
  RecordingPublisher,
  RecordingWorkflows,
  sessionFixture,
  sessionIdFor,
  streamRecord,
} from '../../../support/consumer-fakes.js';

const setup = (overrides: Partial<LifecycleConsumerDeps> = {}) => {
  const workflows = new RecordingWorkflows();
  const publisher = new RecordingPublisher();
  const warnings: { message: string; attributes: Record<string, unknown> }[] = [];
  const errors: { message: string; attributes: Record<string, unknown> }[] = [];
  const metrics: string[] = [];
  const config = streamIdempotencyConfig();
  config.registerLambdaContext(fakeLambdaContext());
  const consume = createLifecycleConsumer({
    workflows,
    events: publisher,
    clock: new ManualClock('2026-01-01T00:20:00.000Z'),
    once: oncePerStreamRecord(new CachePersistenceLayer({ client: new InMemoryCacheClient() }), config),
    log: {
      warn: (message, attributes) => warnings.push({ message, attributes }),
      error: (message, attributes) => errors.push({ message, attributes }),
    },
    count: (name, value = 1) => {
      for (let i = 0; i < value; i++) metrics.push(name);
    },
    ...overrides,
  });
  return { workflows, publisher, consume, warnings, errors, metrics };
};

const active = sessionFixture({ sessionId: sessionIdFor(0x5e) });
const revokedRow = {
  ...active,
  status: 'revoked',
  revokedAt: '2026-01-01T00:10:00.000Z',
  revokedBy: 'bob',
  revokedReason: 'laptop lost',
  version: 2,
};
/** The stream's own time of the write (ApproximateCreationDateTime, whole seconds). */
const STREAM_AT = '2026-01-01T00:10:07.000Z';
const revocationWith = (newImage: Record<string, unknown>): DynamoDBRecord =>
  streamRecord({
    eventName: 'MODIFY',
    sessionId: active.sessionId,
    oldImage: active,
    newImage,
    at: STREAM_AT,
  });

const { revokedBy: _by, ...withoutRevokedBy } = revokedRow;

const VARIANTS: readonly {
  readonly name: string;
  readonly image: Record<string, unknown>;
  readonly revokedAt: string;
  readonly revokedBy: string;
  /** What the warning must name; absent: nothing to report. */
  readonly problem?: RegExp;
}[] = [
  {
    name: 'a timestamp without milliseconds',
    image: { ...revokedRow, revokedAt: '2026-01-01T00:10:00Z' },
    revokedAt: '2026-01-01T00:10:00.000Z',
    revokedBy: 'bob',
    problem: /NewImage: revokedAt must be an ISO-8601 UTC instant/,
  },
  {
    name: 'a missing revokedBy',
    image: withoutRevokedBy,
    revokedAt: '2026-01-01T00:10:00.000Z',
    revokedBy: 'unknown',
    problem: /NewImage: revokedBy is missing/,
  },
  {
    name: 'an extra attribute',
    image: { ...revokedRow, revokedVia: 'console', suspicious: 42 },
    revokedAt: '2026-01-01T00:10:00.000Z',
    revokedBy: 'bob',
  },
  {
    name: 'the status in capitals',
    image: { ...revokedRow, status: 'REVOKED' },
    revokedAt: '2026-01-01T00:10:00.000Z',
    revokedBy: 'bob',
    problem: /NewImage: status is unknown/,
  },
  {
    name: 'revokedAt as a number (epoch seconds)',
    image: { ...revokedRow, revokedAt: Date.parse('2026-01-01T00:10:00.000Z') / 1000 },
    revokedAt: '2026-01-01T00:10:00.000Z',
    revokedBy: 'bob',
    problem: /NewImage: revokedAt must be an ISO-8601 UTC instant/,
  },
  {
    name: 'an unreadable revokedAt (the stream time stands in)',
    image: { ...revokedRow, revokedAt: 'yesterday', createdAt: 'then' },
    revokedAt: STREAM_AT,
    revokedBy: 'bob',
    problem: /NewImage: createdAt must be an ISO-8601 UTC instant; .*revokedAt/,
  },
];

describe('a revocation whose row is slightly off', () => {
  it.each(VARIANTS)('with $name is enforced and announced once, delivered twice', async (variant) => {
    // Prepare
    const { consume, workflows, publisher, warnings, metrics } = setup();
    const record = revocationWith(variant.image);
    // Act: the same record twice, as a retried batch delivers it
    const first = await consume(eventOf(record));
    const second = await consume(eventOf(record));
    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    const fanouts = workflows.calls.filter((call) => call.kind === 'startRevocationFanout');
    expect(fanouts).toEqual([
      {
        kind: 'startRevocationFanout',
        name: `revoke-${active.sessionId}`,
        input: {
          sessionId: active.sessionId,
          user: 'alice',
          profile: 'dev',
          revokedAt: variant.revokedAt,
          revokedBy: variant.revokedBy,
          reason: 'laptop lost',
        },
      },
    ]);
    expect(publisher.summary()).toEqual([
      `SessionStateChanged:${active.sessionId}:active>revoked`,
      `SessionRevoked:${active.sessionId}`,
    ]);
    expect(publisher.accepted[1]?.detail).toMatchObject({
      revokedAt: variant.revokedAt,
      revokedBy: variant.revokedBy,
    });
    const malformed = warnings.filter((w) =>
      w.message.startsWith('stream record images are not well-formed'),
    );
    if (variant.problem === undefined) {
      // Attributes the row does not define are storage detail (GSI keys and the like): nothing to report.
      expect(malformed).toEqual([]);
      expect(metrics).not.toContain('StreamRecordMalformed');
    } else {
      expect(malformed).toHaveLength(1);
      const problems = malformed[0]?.attributes.problems;
      expect(Array.isArray(problems) ? problems.join('; ') : problems).toMatch(variant.problem);
      expect(malformed[0]?.attributes).toMatchObject({ sessionId: active.sessionId, change: 'modified' });
      expect(metrics.filter((m) => m === 'StreamRecordMalformed')).toHaveLength(1);
    }
  });

  it('an early forced expiry with an unreadable expiredAt is enforced from the stream time', async () => {
    const { consume, workflows, publisher } = setup();
    const record = revocationWith({
      ...active,
      status: 'Expired',
      expiredAt: 'soon',
      expiredReason: 'FORCED',
      version: 2,
    });
    expect((await consume(eventOf(record))).batchItemFailures).toEqual([]);
    expect(workflows.calls.map((c) => c.kind)).toEqual(['stopLifecycle', 'startRevocationFanout']);
    expect(workflows.calls[1]).toMatchObject({ input: { revokedAt: STREAM_AT, revokedBy: 'expiry:forced' } });
    expect(publisher.summary()).toEqual([
      `SessionStateChanged:${active.sessionId}:active>expired`,
      `SessionExpired:${active.sessionId}:forced`,
    ]);
  });

  it('fails only a record that cannot be tied to a session or whose status is none of the three', async () => {
    const { consume, workflows, publisher } = setup();
    const noKey = revocationWith(revokedRow);
    const { Keys: _keys, ...withoutKeys } = noKey.dynamodb ?? {};
    const keyless: DynamoDBRecord = { ...noKey, dynamodb: withoutKeys };
    const unknownStatus = revocationWith({ ...revokedRow, status: 'disabled' });
    // A well-formed change of another session in the same batch (an all-failed batch is retried whole).
    const other = sessionFixture({ sessionId: sessionIdFor(0x07) });
    const otherRevoked = streamRecord({
      eventName: 'MODIFY',
      sessionId: other.sessionId,
      oldImage: other,
      newImage: { ...revokedRow, sessionId: other.sessionId },
    });
    const response = await consume(eventOf(keyless, unknownStatus, otherRevoked));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      keyless.dynamodb?.SequenceNumber,
      unknownStatus.dynamodb?.SequenceNumber,
    ]);
    expect(workflows.calls.map((call) => call.name)).toEqual([other.sessionId, `revoke-${other.sessionId}`]);
    expect(publisher.summary()).toEqual([
      `SessionStateChanged:${other.sessionId}:active>revoked`,
      `SessionRevoked:${other.sessionId}`,
    ]);
  });
});

describe('a terminal row turning active', () => {
  it('is audited, alarmed (error log + TerminalToActive) and not started as a new session', async () => {
    const { consume, workflows, publisher, errors, metrics } = setup();
    const record = streamRecord({
      eventName: 'MODIFY',
      sessionId: active.sessionId,
      oldImage: revokedRow,
      newImage: { ...active, version: 3 },
    });
    expect((await consume(eventOf(record))).batchItemFailures).toEqual([]);
    expect(workflows.calls).toEqual([]);
    expect(publisher.summary()).toEqual([`SessionStateChanged:${active.sessionId}:revoked>active`]);
    expect(errors).toEqual([
      {
        message: 'terminal session moved revoked → active',
        attributes: expect.objectContaining({ sessionId: active.sessionId, alarm: 'TerminalToActive' }),
      },
    ]);
    expect(metrics).toEqual(['TerminalToActive']);
  });
});

/** Fan-out starts answered as given, recorded. */
class ScriptedFanouts extends RecordingWorkflows {
  constructor(private readonly answer: RevocationFanoutStart) {
    super();
  }
  override async startRevocationFanout(input: RevocationFanoutInput): Promise<RevocationFanoutStart> {
    await super.startRevocationFanout(input);
    return this.answer;
  }
}

describe('what starting the fan-out reports', () => {
  const revoke = () => revocationWith(revokedRow);

  it('a retry after a failed fan-out is a warning and RevocationFanoutRetried; the record succeeds', async () => {
    const name = `revoke-${active.sessionId}`;
    const workflows = new ScriptedFanouts({
      alreadyStarted: false,
      executionName: `${name}-r1`,
      failedBefore: [name],
    });
    const { consume, publisher, warnings, metrics } = setup({ workflows });
    expect((await consume(eventOf(revoke()))).batchItemFailures).toEqual([]);
    expect(publisher.summary()).toContain(`SessionRevoked:${active.sessionId}`);
    expect(metrics).toEqual(['RevocationFanoutRetried']);
    expect(warnings.map((w) => w.message)).toContain(
      'revocation fan-out failed before; a retry execution was started',
    );
  });

  it('exhausted retries are an error and RevocationFanoutRetriesExhausted, and still announced', async () => {
    const workflows = new ScriptedFanouts({
      alreadyStarted: false,
      failedBefore: ['a', 'b', 'c', 'd'],
      retriesExhausted: true,
    });
    const { consume, publisher, errors, metrics } = setup({ workflows });
    expect((await consume(eventOf(revoke()))).batchItemFailures).toEqual([]);
    // SessionRevoked must not wait on the fan-out: the reconciler enforces, the announcement goes out once.
    expect(publisher.summary()).toContain(`SessionRevoked:${active.sessionId}`);
    expect(metrics).toEqual(['RevocationFanoutRetriesExhausted']);
    expect(errors[0]?.message).toMatch(/reconciler re-enforces it/);
  });
});
