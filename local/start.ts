/**
 * `npm start`: the whole pipeline on this machine (see local/stack.ts). Ctrl-C stops it.
 *
 * Environment (all optional): PORT (HTTP API, default 3000), DYNAMODB_PORT (default: a free port),
 * SENTINEL_TIME_SCALE (how much faster Wait states run, default 60: a 15-minute session expires in 15 s),
 * PROFILES (JSON profile allowlist, as the vend Lambda reads it).
 */
import { ConfigurationError } from '../src/domain/errors.js';
import { LOCAL_CALLER_HEADER } from './http-api.js';
import { LOCAL_PROFILES, startLocalStack } from './stack.js';

const positiveNumber = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigurationError(`${name} must be a positive number, got "${raw}"`);
  return value;
};

const profilesFromEnv = (): unknown => {
  const raw = process.env.PROFILES;
  if (raw === undefined || raw === '') return LOCAL_PROFILES;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ConfigurationError(
      'PROFILES must be JSON, e.g. {"dev":{"roleArn":"arn:aws:iam::123456789012:role/x",…}}',
    );
  }
};

const main = async (): Promise<void> => {
  const httpPort = positiveNumber('PORT', 3000);
  const dynamoPort = process.env.DYNAMODB_PORT ? positiveNumber('DYNAMODB_PORT', 8000) : undefined;
  const timeScale = positiveNumber('SENTINEL_TIME_SCALE', 60);
  const stack = await startLocalStack({
    httpPort,
    ...(dynamoPort ? { dynamoPort } : {}),
    timeScale,
    profiles: profilesFromEnv(),
  });
  const caller = 'arn:aws:iam::123456789012:user/alice';
  console.log(`
sentinel-sessions local stack is up (everything local; STS is OFFLINE and its credentials are FAKE)

  HTTP API          ${stack.url}   (IAM identity from the ${LOCAL_CALLER_HEADER} header, local only)
  DynamoDB Local    ${stack.dynamo.endpoint}   (in memory, region us-east-1, any credentials)
  tables            ${Object.values(stack.tables).join(', ')}
  event bus         ${stack.bus.busName}, rules: ${stack.bus.ruleNames.join(', ')}
  audit log         ${stack.auditLogPath}
  workflows         session-lifecycle, revocation-fanout (Waits ${timeScale}x faster)

Try:
  curl -s -XPOST ${stack.url}/v1/sessions -H 'content-type: application/json' \\
    -H '${LOCAL_CALLER_HEADER}: ${caller}' -d '{"profile":"dev"}'
  curl -s -XPOST ${stack.url}/v1/sessions/<sessionId>/credentials -H '${LOCAL_CALLER_HEADER}: ${caller}'
  curl -s -XPOST ${stack.url}/local/sessions/<sessionId>/revoke -H '${LOCAL_CALLER_HEADER}: ${caller}' \\
    -d '{"reason":"laptop lost"}'     (local only: an operator's revocation)
  tail -f ${stack.auditLogPath}

Ctrl-C to stop.
`);
  const shutdown = (): void => {
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exit(1);
});
