import {
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
      expiresAt: '2026-01-01T01:00:00.000Z',
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
      expiresAt: '2026-01-01T01:00:00.000Z',
      user: 'alice',
      profile: 'dev',
    });
  });

  it('counts ExecutionAlreadyExists as started', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists(meta));
    const result = await control().startLifecycle({
      sessionId: SESSION,
      expiresAt: '2026-01-01T01:00:00.000Z',
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
      control().startLifecycle({ sessionId: SESSION, expiresAt: 'x', user: 'alice', profile: 'dev' }),
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

  it('counts an existing revoke-<sessionId> execution as started', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists(meta));
    const input = {
      sessionId: SESSION,
      user: 'alice',
      profile: 'dev',
      revokedAt: '2026-01-01T00:10:00.000Z',
      revokedBy: 'bob',
      reason: 'laptop lost',
    };
    expect(await control().startRevocationFanout(input)).toEqual({ alreadyStarted: true });
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
    expect(await control().startRevocationFanout(input)).toEqual({ alreadyStarted: false });
    const sent = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(sent?.stateMachineArn).toBe(FANOUT);
    expect(sent?.name).toBe(`revoke-${SESSION}`);
    expect(JSON.parse(sent?.input ?? '{}')).toEqual(input);
  });
});
