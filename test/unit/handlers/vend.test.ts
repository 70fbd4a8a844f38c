/**
 * The vend handler factory: two handlers built in one process with different configuration each keep their
 * own (profiles, SESSION_STORE_FAILURE, table names), with real SDK clients whose calls are mocked.
 */
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../local/manual-clock.js';
import { createObservability } from '../../../src/commons/powertools.js';
import { createVendHandler, type VendConfig, vendConfigFromEnv } from '../../../src/handlers/vend.js';
import { parseProfiles } from '../../../src/usecases/vend-profiles.js';
import { bodyOf, fixture, lambdaContext, NOW, withBody } from '../../support/vend-api.js';

// Importing the module builds its `handler` from the environment at init, as Lambda does.
vi.hoisted(() => {
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    SESSIONS_TABLE_NAME: 'sessions-from-env',
    IDEMPOTENCY_TABLE_NAME: 'idempotency-from-env',
    EVENT_BUS_NAME: 'bus-from-env',
    ACCESS_POLICY_PARAMETER: '/sentinel/from-env',
    PROFILES: JSON.stringify({
      env: {
        roleArn: 'arn:aws:iam::444455556666:role/env',
        maxDurationSeconds: 900,
        idleTimeoutSeconds: 1800,
        maxLifetimeSeconds: 3600,
      },
    }),
  });
});

const DEV = {
  roleArn: 'arn:aws:iam::444455556666:role/sentinel/dev-access',
  maxDurationSeconds: 3600,
  idleTimeoutSeconds: 7200,
  maxLifetimeSeconds: 28_800,
};
const PROD = { ...DEV, roleArn: 'arn:aws:iam::777788889999:role/prod-readonly' };

const configOf = (overrides: Partial<VendConfig>): VendConfig => ({
  profiles: parseProfiles({ dev: DEV }),
  storeFailure: 'deny',
  auditRetentionSeconds: 7 * 86_400,
  sessionsTableName: 'sessions-a',
  idempotencyTableName: 'idempotency-a',
  eventBusName: 'bus-a',
  accessPolicyParameterName: '/sentinel/access-policy',
  accessPolicyMaxAgeSeconds: 60,
  ...overrides,
});

const mocks: { restore(): void }[] = [];
afterEach(() => {
  for (const mock of mocks.splice(0)) mock.restore();
});

const ALLOW_ALL = { version: 1, admins: [], rules: [{ name: 'allow-all', effect: 'allow' }] };

/** One handler on its own mocked clients; returns what each client was asked. */
const build = (config: VendConfig, policy: unknown = ALLOW_ALL) => {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const sts = new STSClient({ region: 'eu-west-1' });
  const eventBridge = new EventBridgeClient({ region: 'eu-west-1' });
  const ssmClient = new SSMClient({ region: 'eu-west-1' });
  const ssm = mockClient(ssmClient);
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(policy) } });
  const documents = mockClient(documentClient);
  const stsMock = mockClient(sts);
  const bus = mockClient(eventBridge);
  const clock = new ManualClock(NOW);
  stsMock.on(AssumeRoleCommand).callsFake(() => ({
    Credentials: {
      AccessKeyId: 'ASIAFACTORYTEST00001',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(clock.now().getTime() + 900_000),
    },
  }));
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  // The re-read after AssumeRole finds the row the put wrote.
  documents
    .on(GetCommand)
    .callsFake(() => ({ Item: documents.commandCalls(PutCommand).at(-1)?.args[0].input.Item }));
  const handler = createVendHandler({
    config,
    clients: {
      dynamoDb: new DynamoDBClient({ region: 'eu-west-1' }),
      documentClient,
      sts,
      eventBridge,
      ssm: new SSMProvider({ awsSdkV3Client: ssmClient }),
    },
    observability: createObservability({ serviceName: 'vend-test' }),
    clock,
  });
  mocks.push(documents, stsMock, bus, ssm);
  return { handler, documents, stsMock, bus, ssm };
};

const createFor = (profile: string) => withBody(fixture('create'), JSON.stringify({ profile }));

describe('createVendHandler', () => {
  it('two handlers in one process keep their own profiles and tables', async () => {
    const a = build(configOf({}));
    const b = build(
      configOf({
        profiles: parseProfiles({ prod: PROD }),
        sessionsTableName: 'sessions-b',
        eventBusName: 'bus-b',
      }),
    );
    a.documents.on(PutCommand).resolves({});
    b.documents.on(PutCommand).resolves({});

    const aAnswer = await a.handler(createFor('prod'), lambdaContext('req-a'));
    const bAnswer = await b.handler(createFor('prod'), lambdaContext('req-b'));

    expect(aAnswer.statusCode).toBe(403);
    expect(bodyOf(aAnswer).code).toBe('ProfileNotAllowed');
    expect(a.documents.calls()).toHaveLength(0);
    expect(a.stsMock.calls()).toHaveLength(0);
    expect(bAnswer.statusCode).toBe(201);
    expect(b.documents.commandCalls(PutCommand)[0]?.args[0].input.TableName).toBe('sessions-b');
    expect(b.stsMock.commandCalls(AssumeRoleCommand)[0]?.args[0].input.RoleArn).toBe(PROD.roleArn);
    expect(b.bus.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.EventBusName).toBe('bus-b');
  });

  it('two handlers keep their own SESSION_STORE_FAILURE: deny answers 503, allow vends untracked', async () => {
    const deny = build(configOf({ storeFailure: 'deny' }));
    const allow = build(configOf({ storeFailure: 'allow' }));
    const unreachable = Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' });
    deny.documents.on(PutCommand).rejects(unreachable);
    allow.documents.on(PutCommand).rejects(unreachable);

    const denied = await deny.handler(createFor('dev'), lambdaContext('req-deny'));
    const allowed = await allow.handler(createFor('dev'), lambdaContext('req-allow'));

    expect(denied.statusCode).toBe(503);
    expect(bodyOf(denied).code).toBe('SessionStoreUnavailable');
    expect(allowed.statusCode).toBe(201);
    // Untracked: no row, so no SessionCreated either.
    expect(allow.bus.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('reads its configuration from an explicit environment, naming the variable it lacks', () => {
    const env = {
      PROFILES: JSON.stringify({ dev: DEV }),
      SESSIONS_TABLE_NAME: 's',
      IDEMPOTENCY_TABLE_NAME: 'i',
      EVENT_BUS_NAME: 'b',
      ACCESS_POLICY_PARAMETER: '/p',
    };
    expect(vendConfigFromEnv(env)).toMatchObject({ storeFailure: 'deny', auditRetentionSeconds: 7 * 86_400 });
    expect(() => vendConfigFromEnv({ ...env, IDEMPOTENCY_TABLE_NAME: ' ' })).toThrow(
      /IDEMPOTENCY_TABLE_NAME/,
    );
    expect(() => vendConfigFromEnv({ ...env, ACCESS_POLICY_PARAMETER: undefined })).toThrow(
      /ACCESS_POLICY_PARAMETER/,
    );
    expect(() => vendConfigFromEnv({ ...env, ACCESS_POLICY_MAX_AGE_SECONDS: '-1' })).toThrow(
      /ACCESS_POLICY_MAX_AGE_SECONDS/,
    );
  });

  it('reads the access policy from its SSM parameter: a deny rule refuses, nothing written or issued', async () => {
    const denyAlice = {
      version: '2026-01-15',
      admins: [],
      rules: [{ name: 'no-dev-for-alice', effect: 'deny', users: ['alice@example.com'], reason: 'on leave' }],
    };
    const built = build(configOf({}), denyAlice);
    const answer = await built.handler(createFor('dev'), lambdaContext('req-deny-policy'));
    expect(answer.statusCode).toBe(403);
    expect(bodyOf(answer)).toEqual({ code: 'AccessDenied', message: 'on leave (rule "no-dev-for-alice")' });
    expect(built.ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toMatchObject({
      Name: '/sentinel/access-policy',
      WithDecryption: true,
    });
    expect(built.documents.calls()).toHaveLength(0);
    expect(built.stsMock.calls()).toHaveLength(0);
    const denied = built.bus.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(denied?.DetailType).toBe('VendDenied');
    expect(JSON.parse(denied?.Detail ?? '{}')).toMatchObject({
      action: 'create',
      sessionId: null,
      rule: 'no-dev-for-alice',
      policyVersion: '2026-01-15',
    });
  });

  it('an invalid or unreadable policy denies every vend (503 PolicyUnavailable), never allows', async () => {
    const invalid = build(configOf({}), { version: 1, rules: [{ name: 'x', effect: 'maybe' }] });
    const unreadable = build(configOf({}));
    unreadable.ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    for (const built of [invalid, unreadable]) {
      const answer = await built.handler(createFor('dev'), lambdaContext('req-no-policy'));
      expect(answer.statusCode).toBe(503);
      expect(bodyOf(answer).code).toBe('PolicyUnavailable');
      expect(built.stsMock.calls()).toHaveLength(0);
      expect(built.documents.calls()).toHaveLength(0);
    }
  });
});
