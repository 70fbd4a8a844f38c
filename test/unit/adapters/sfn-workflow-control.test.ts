import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SfnWorkflowControl } from '../../../src/adapters/sfn-workflow-control.js';
import { executionArnFor, InvalidStateMachineArnError } from '../../../src/domain/executions.js';

const sfn = mockClient(SFNClient);
const LIFECYCLE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:sentinel-lifecycle-dev';
const FANOUT = 'arn:aws:states:eu-west-1:123456789012:stateMachine:sentinel-fanout-dev';
const SESSION = '0123456789abcdef0123456789abcdef';
const meta = { $metadata: {}, message: 'x' };

const control = () =>
  new SfnWorkflowControl({
    client: new SFNClient({ region: 'eu-west-1' }),
    lifecycleStateMachineArn: LIFECYCLE,
    revocationFanoutStateMachineArn: FANOUT,
  });

beforeEach(() => sfn.reset());

describe('executionArnFor', () => {
  it('builds the execution ARN from the state machine ARN, in any partition', () => {
    expect(executionArnFor(LIFECYCLE, SESSION)).toBe(
      `arn:aws:states:eu-west-1:123456789012:execution:sentinel-lifecycle-dev:${SESSION}`,
    );
    expect(executionArnFor('arn:aws-cn:states:cn-north-1:123456789012:stateMachine:m', 'x')).toBe(
      'arn:aws-cn:states:cn-north-1:123456789012:execution:m:x',
    );
  });

  it('refuses anything that is not a state machine ARN', () => {
    expect(() => executionArnFor('arn:aws:lambda:eu-west-1:123456789012:function:f', 'x')).toThrow(
      InvalidStateMachineArnError,
    );
    expect(
      () =>
        new SfnWorkflowControl({
          client: new SFNClient({ region: 'eu-west-1' }),
          lifecycleStateMachineArn: 'nope',
          revocationFanoutStateMachineArn: FANOUT,
        }),
    ).toThrow(/nope/);
  });
});

describe('SfnWorkflowControl', () => {
  it('starts the lifecycle execution named by the session id with its input', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'a', startDate: new Date() });
    // Act
    const result = await control().startLifecycle({
      sessionId: SESSION,
      maxExpiresAt: '2026-01-01T01:00:00.000Z',
      user: 'alice',
      profile: 'dev',
    });
    // Assess
    expect(result).toEqual({ alreadyStarted: false });
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(input?.stateMachineArn).toBe(LIFECYCLE);
    expect(input?.name).toBe(SESSION);
    expect(JSON.parse(input?.input ?? '{}')).toEqual({
      sessionId: SESSION,
      maxExpiresAt: '2026-01-01T01:00:00.000Z',
      user: 'alice',
      profile: 'dev',
    });
  });

  it('counts ExecutionAlreadyExists as started', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists(meta));
    const result = await control().startLifecycle({
      sessionId: SESSION,
      maxExpiresAt: '2026-01-01T01:00:00.000Z',
      user: 'alice',
      profile: 'dev',
    });
    expect(result).toEqual({ alreadyStarted: true });
  });

  it('lets other start errors (throttling) reach the caller', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', ...meta }));
    await expect(
      control().startLifecycle({ sessionId: SESSION, maxExpiresAt: 'x', user: 'alice', profile: 'dev' }),
    ).rejects.toThrow(expect.objectContaining({ name: 'ThrottlingException' }));
  });

  it('stops the lifecycle execution by its derived ARN', async () => {
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
    const result = await control().stopLifecycle(SESSION, 'revoked by bob');
    expect(result).toEqual({ stopped: true });
    const input = sfn.commandCalls(StopExecutionCommand)[0]?.args[0].input;
    expect(input?.executionArn).toBe(executionArnFor(LIFECYCLE, SESSION));
    expect(input?.cause).toBe('revoked by bob');
  });

  it('treats a missing lifecycle execution as nothing to stop', async () => {
    sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist(meta));
    expect(await control().stopLifecycle(SESSION, 'revoked')).toEqual({ stopped: false });
  });

  it('lets other stop errors (throttling) reach the caller', async () => {
    sfn
      .on(StopExecutionCommand)
      .rejects(new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', ...meta }));
    await expect(control().stopLifecycle(SESSION, 'revoked')).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
  });

  describe('an existing revoke-<sessionId> execution', () => {
    const input = {
      sessionId: SESSION,
      user: 'alice',
      profile: 'dev',
      revokedAt: '2026-01-01T00:10:00.000Z',
      revokedBy: 'bob',
      reason: 'laptop lost',
    };
    const first = `revoke-${SESSION}`;
    /** Names already taken, with the status DescribeExecution reports for each. */
    const existing = (statuses: Record<string, string>) => {
      sfn.on(StartExecutionCommand).callsFake((request: { name?: string }) => {
        if (request.name !== undefined && request.name in statuses) throw new ExecutionAlreadyExists(meta);
        return { executionArn: executionArnFor(FANOUT, request.name ?? '?'), startDate: new Date() };
      });
      sfn.on(DescribeExecutionCommand).callsFake((request: { executionArn?: string }) => {
        const name = request.executionArn?.split(':').at(-1) ?? '';
        return { status: statuses[name], executionArn: request.executionArn };
      });
    };
    const startedNames = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);

    it.each(['RUNNING', 'SUCCEEDED', 'PENDING_REDRIVE'])('counts as started when %s', async (status) => {
      existing({ [first]: status });
      expect(await control().startRevocationFanout(input)).toEqual({
        alreadyStarted: true,
        executionName: first,
        failedBefore: [],
      });
      expect(startedNames()).toEqual([first]);
      expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input.executionArn).toBe(
        executionArnFor(FANOUT, first),
      );
    });

    it.each(['FAILED', 'TIMED_OUT', 'ABORTED'])(
      'is retried as revoke-<sessionId>-r1 when %s',
      async (status) => {
        existing({ [first]: status });
        expect(await control().startRevocationFanout(input)).toEqual({
          alreadyStarted: false,
          executionName: `${first}-r1`,
          failedBefore: [first],
        });
        expect(startedNames()).toEqual([first, `${first}-r1`]);
        const retry = sfn.commandCalls(StartExecutionCommand)[1]?.args[0].input;
        expect(retry?.stateMachineArn).toBe(FANOUT);
        expect(JSON.parse(retry?.input ?? '{}')).toEqual(input);
      },
    );

    it('takes the next free retry name, and counts a running retry as started', async () => {
      existing({ [first]: 'FAILED', [`${first}-r1`]: 'ABORTED' });
      expect(await control().startRevocationFanout(input)).toMatchObject({
        alreadyStarted: false,
        executionName: `${first}-r2`,
        failedBefore: [first, `${first}-r1`],
      });
      sfn.reset();
      existing({ [first]: 'FAILED', [`${first}-r1`]: 'RUNNING' });
      expect(await control().startRevocationFanout(input)).toMatchObject({
        alreadyStarted: true,
        executionName: `${first}-r1`,
      });
    });

    it('stops after three retries and reports it, starting nothing more', async () => {
      existing({
        [first]: 'FAILED',
        [`${first}-r1`]: 'FAILED',
        [`${first}-r2`]: 'TIMED_OUT',
        [`${first}-r3`]: 'FAILED',
      });
      expect(await control().startRevocationFanout(input)).toEqual({
        alreadyStarted: false,
        failedBefore: [first, `${first}-r1`, `${first}-r2`, `${first}-r3`],
        retriesExhausted: true,
      });
      expect(startedNames()).toEqual([first, `${first}-r1`, `${first}-r2`, `${first}-r3`]);
    });

    it('lets a DescribeExecution fault through (the record is retried), starting no retry', async () => {
      sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists(meta));
      sfn
        .on(DescribeExecutionCommand)
        .rejects(new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', ...meta }));
      await expect(control().startRevocationFanout(input)).rejects.toMatchObject({
        name: 'ThrottlingException',
      });
      expect(startedNames()).toEqual([first]);
    });
  });

  it('starts the revocation fan-out as revoke-<sessionId> on its own state machine', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'b', startDate: new Date() });
    const input = {
      sessionId: SESSION,
      user: 'alice',
      profile: 'dev',
      revokedAt: '2026-01-01T00:10:00.000Z',
      revokedBy: 'bob',
      reason: 'laptop lost',
    };
    expect(await control().startRevocationFanout(input)).toEqual({
      alreadyStarted: false,
      executionName: `revoke-${SESSION}`,
      failedBefore: [],
    });
    const sent = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(sent?.stateMachineArn).toBe(FANOUT);
    expect(sent?.name).toBe(`revoke-${SESSION}`);
    expect(JSON.parse(sent?.input ?? '{}')).toEqual(input);
  });
});
