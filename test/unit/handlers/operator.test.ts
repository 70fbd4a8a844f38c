/**
 * The operator handler factory: configuration checked at init naming the variable; two handlers in one
 * process keep their own table, state machines and policy parameter.
 */
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../local/manual-clock.js';
import { createObservability } from '../../../src/commons/powertools.js';
import { ConfigurationError } from '../../../src/domain/errors.js';
import {
  createOperatorHandler,
  type OperatorConfig,
  operatorConfigFromEnv,
} from '../../../src/handlers/operator.js';
import { ALICE_ARN, operatorRequest, sessionOf } from '../../support/operator-api.js';
import { lambdaContext } from '../../support/vend-api.js';

// Importing the module builds its `handler` from the environment at init, as Lambda does.
vi.hoisted(() => {
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    SESSIONS_TABLE_NAME: 'sessions-from-env',
    ACCESS_POLICY_PARAMETER: '/sentinel/from-env',
    REVOCATION_FANOUT_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111122223333:stateMachine:fanout-env',
  });
});

const LIFECYCLE_A = 'arn:aws:states:eu-west-1:111122223333:stateMachine:lifecycle-a';
const FANOUT_A = 'arn:aws:states:eu-west-1:111122223333:stateMachine:fanout-a';
const GOOD_ENV = {
  SESSIONS_TABLE_NAME: 'sessions',
  ACCESS_POLICY_PARAMETER: '/sentinel/access-policy',
  LIFECYCLE_STATE_MACHINE_ARN: LIFECYCLE_A,
  REVOCATION_FANOUT_STATE_MACHINE_ARN: FANOUT_A,
};

describe('operatorConfigFromEnv', () => {
  it('reads a complete environment; without a lifecycle state machine, show links none', () => {
    expect(operatorConfigFromEnv(GOOD_ENV)).toEqual({
      sessionsTableName: 'sessions',
      accessPolicyParameterName: '/sentinel/access-policy',
      accessPolicyMaxAgeSeconds: 60,
      executions: { lifecycleStateMachineArn: LIFECYCLE_A, revocationFanoutStateMachineArn: FANOUT_A },
    });
    expect(operatorConfigFromEnv({ ...GOOD_ENV, LIFECYCLE_STATE_MACHINE_ARN: '' }).executions).toEqual({
      revocationFanoutStateMachineArn: FANOUT_A,
    });
  });

  it.each([
    ['SESSIONS_TABLE_NAME', { SESSIONS_TABLE_NAME: undefined }],
    ['ACCESS_POLICY_PARAMETER', { ACCESS_POLICY_PARAMETER: ' ' }],
    ['REVOCATION_FANOUT_STATE_MACHINE_ARN', { REVOCATION_FANOUT_STATE_MACHINE_ARN: undefined }],
    ['REVOCATION_FANOUT_STATE_MACHINE_ARN', { REVOCATION_FANOUT_STATE_MACHINE_ARN: 'fanout' }],
    [
      'LIFECYCLE_STATE_MACHINE_ARN',
      { LIFECYCLE_STATE_MACHINE_ARN: 'arn:aws:lambda:eu-west-1:111122223333:function:x' },
    ],
    ['ACCESS_POLICY_MAX_AGE_SECONDS', { ACCESS_POLICY_MAX_AGE_SECONDS: '-1' }],
  ])('fails naming %s', (name, overrides) => {
    const attempt = () => operatorConfigFromEnv({ ...GOOD_ENV, ...overrides });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(name);
  });
});

const mocks: { restore(): void }[] = [];
afterEach(() => {
  for (const mock of mocks.splice(0)) mock.restore();
});

const build = (config: OperatorConfig) => {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const ssmClient = new SSMClient({ region: 'eu-west-1' });
  const documents = mockClient(documentClient);
  const ssm = mockClient(ssmClient);
  ssm.on(GetParameterCommand).resolves({
    Parameter: {
      Value: JSON.stringify({ version: 1, admins: [], rules: [{ name: 'all', effect: 'allow' }] }),
    },
  });
  mocks.push(documents, ssm);
  const now = new Date('2026-01-15T09:30:00.000Z');
  documents
    .on(GetCommand)
    .resolves({ Item: { ...sessionOf('3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79', ALICE_ARN, now) } });
  const handler = createOperatorHandler({
    config,
    clients: { documentClient, ssm: new SSMProvider({ awsSdkV3Client: ssmClient }) },
    observability: createObservability({ serviceName: 'operator-test' }),
    clock: new ManualClock(now),
  });
  return { handler, documents, ssm };
};

describe('createOperatorHandler', () => {
  it('two handlers in one process keep their own table, policy parameter and state machines', async () => {
    const a = build(operatorConfigFromEnv(GOOD_ENV));
    const b = build(
      operatorConfigFromEnv({
        ...GOOD_ENV,
        SESSIONS_TABLE_NAME: 'sessions-b',
        ACCESS_POLICY_PARAMETER: '/sentinel/b',
        LIFECYCLE_STATE_MACHINE_ARN: '',
      }),
    );
    const show = operatorRequest('show', { as: ALICE_ARN });
    const aShown = JSON.parse((await a.handler(show, lambdaContext('a'))).body);
    const bShown = JSON.parse((await b.handler(show, lambdaContext('b'))).body);

    expect(a.documents.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'sessions',
      ConsistentRead: true,
    });
    expect(b.documents.commandCalls(GetCommand)[0]?.args[0].input.TableName).toBe('sessions-b');
    expect(a.ssm.commandCalls(GetParameterCommand)[0]?.args[0].input.Name).toBe('/sentinel/access-policy');
    expect(b.ssm.commandCalls(GetParameterCommand)[0]?.args[0].input.Name).toBe('/sentinel/b');
    expect(aShown.workflows.lifecycle.executionArn).toBe(
      'arn:aws:states:eu-west-1:111122223333:execution:lifecycle-a:3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79',
    );
    expect(bShown.workflows).toEqual({});
  });
});
