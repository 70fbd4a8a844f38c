/**
 * Where a session's workflow executions live. Executions are named after the session (lifecycle: the
 * session id; revocation fan-out: `revoke-<sessionId>`), so their ARNs follow from the state machine ARN
 * without a lookup: the consumer stops one that way and the operator API links to them.
 */
import { DomainError } from './errors.js';

export class InvalidStateMachineArnError extends DomainError {
  override readonly name = 'InvalidStateMachineArnError';
  readonly code = 'InvalidStateMachineArn';
}

const STATE_MACHINE_ARN = /^arn:([a-z-]+):states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})$/;

/** `arn:…:states:r:a:stateMachine:NAME` + execution name → `arn:…:states:r:a:execution:NAME:<name>`. */
export const executionArnFor = (stateMachineArn: string, executionName: string): string => {
  const match = STATE_MACHINE_ARN.exec(stateMachineArn);
  if (!match) throw new InvalidStateMachineArnError(`Not a state machine ARN: ${stateMachineArn}`);
  const [, partition, region, account, name] = match;
  return `arn:${partition}:states:${region}:${account}:execution:${name}:${executionName}`;
};

export const lifecycleExecutionName = (sessionId: string): string => sessionId;
export const revocationExecutionName = (sessionId: string): string => `revoke-${sessionId}`;

/** The AWS console's host per partition; partitions without a public console get no link. */
const CONSOLE_HOSTS: Readonly<Record<string, string>> = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
};

/** The Step Functions console page of an execution (the graph and event history an operator traces). */
export const executionConsoleUrl = (executionArn: string): string | undefined => {
  const [, partition, , region] = executionArn.split(':');
  const host = partition === undefined ? undefined : CONSOLE_HOSTS[partition];
  if (host === undefined || region === undefined || region === '') return undefined;
  return `https://${region}.${host}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
};
