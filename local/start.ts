/**
 * `npm start`: the whole pipeline on this machine (see local/stack.ts). Ctrl-C stops it.
 *
 * Environment (all optional): PORT (HTTP API, default 3000; 0 picks a free port), DYNAMODB_PORT (default: a
 * free port), SENTINEL_TIME_SCALE (how much faster the stack's clock runs than the wall clock, default 60: a
 * 16-minute session expires 16 s after it is created), PROFILES (JSON profile allowlist, as the vend Lambda
 * reads it), SENTINEL_AUDIT_LOG (the audit file, default .local/audit.jsonl; emptied at each start).
 *
 * Stopping: SIGINT, SIGTERM or SIGHUP stop everything, DynamoDB Local's Java included, within a few seconds;
 * a second signal exits at once. `npm start` passes SIGTERM only to the shell it runs the script in, which
 * dies of it without passing it on, so the exit of any launcher (npm, its shell, tsx) stops the stack too.
 */
import { ConfigurationError } from '../src/domain/errors.js';
import { LOCAL_CALLER_HEADER } from './http-api.js';
import { watchLaunchers } from './launcher-watch.js';
import { PortInUseError } from './ports.js';
import { LOCAL_PROFILES, type LocalStack, startLocalStack } from './stack.js';

/** Shutdown gets this long before the process exits anyway (its exit handler kills Java's process group). */
const STOP_WITHIN_MS = 4000;
const NODE_MAJOR = 22;

const number = (name: string, fallback: number, { zero = false } = {}): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zero))
    throw new ConfigurationError(`${name} must be a positive number, got "${raw}"`);
  return value;
};

const port = (name: string, fallback: number): number => {
  const value = number(name, fallback, { zero: true });
  if (!Number.isInteger(value) || value > 65_535)
    throw new ConfigurationError(`${name} must be a port number (0-65535), got "${process.env[name]}"`);
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

/** One line saying what went wrong and what to do about it. */
const failureLine = (error: unknown): string => {
  if (error instanceof PortInUseError) {
    return error.purpose === 'HTTP API'
      ? `port ${error.port} is in use: set PORT to use another (PORT=0 picks a free one)`
      : `port ${error.port} is in use: set DYNAMODB_PORT to use another, or unset it to pick a free one`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
};

const banner = (stack: LocalStack, timeScale: number): string => {
  const caller = 'arn:aws:iam::123456789012:user/alice';
  const admin = 'arn:aws:iam::123456789012:user/admin';
  return `
sentinel-sessions local stack is up (everything local; STS is OFFLINE and its credentials are FAKE)

  HTTP API          ${stack.url}   (IAM identity from the ${LOCAL_CALLER_HEADER} header, local only)
  DynamoDB Local    ${stack.dynamo.endpoint}   (in memory, region us-east-1, any credentials; java pid ${String(stack.dynamo.pid)})
  tables            ${Object.values(stack.tables).join(', ')}
  event bus         ${stack.bus.busName}, rules: ${stack.bus.ruleNames.join(', ')}
  audit log         ${stack.auditLogPath}   (emptied at each start, like the tables)
  workflows         session-lifecycle, revocation-fanout
  clock             ${timeScale}x the wall clock, for every time shown (responses, events, logs, audit log)

Try:
  curl -s -XPOST ${stack.url}/v1/sessions -H 'content-type: application/json' \\
    -H '${LOCAL_CALLER_HEADER}: ${caller}' -d '{"profile":"dev"}'
  curl -s -XPOST ${stack.url}/v1/sessions/<sessionId>/credentials -H '${LOCAL_CALLER_HEADER}: ${caller}'
  curl -s ${stack.url}/v1/sessions -H '${LOCAL_CALLER_HEADER}: ${caller}'      (alice's sessions)
  curl -s -XPOST ${stack.url}/v1/sessions/<sessionId>/revoke -H '${LOCAL_CALLER_HEADER}: ${admin}' \\
    -d '{"reason":"laptop lost"}'     (an admin of local/policy.yaml revokes it)
  tail -f ${stack.auditLogPath}

Ctrl-C to stop.
`;
};

const main = async (): Promise<void> => {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < NODE_MAJOR)
    throw new ConfigurationError(`needs Node ${NODE_MAJOR} or newer; this is Node ${process.versions.node}`);
  const httpPort = port('PORT', 3000);
  const dynamoPort = process.env.DYNAMODB_PORT ? port('DYNAMODB_PORT', 8000) : undefined;
  const timeScale = number('SENTINEL_TIME_SCALE', 60);
  const auditLogPath = process.env.SENTINEL_AUDIT_LOG || undefined;

  let stack: LocalStack | undefined;
  let stopping = false;
  let firstSignalAt: number | undefined;
  const shutdown = (why: string, bySignal: boolean): void => {
    // Before the stack is up, or on a second Ctrl-C: exit now; the exit handler takes Java down. A signal
    // right after the first is the same one again (a terminal signals the whole group, and tsx relays it too).
    const now = Date.now();
    if (!stack || (bySignal && firstSignalAt !== undefined && now - firstSignalAt > 500)) {
      console.error(stack ? `${why} again: exiting now` : `${why}: exiting before the stack is up`);
      process.exit(130);
    }
    if (bySignal) firstSignalAt ??= now;
    if (stopping) return;
    stopping = true;
    const started = now;
    console.log(`\n${why}: stopping…`);
    setTimeout(() => {
      console.error(`still stopping after ${STOP_WITHIN_MS} ms; exiting anyway`);
      process.exit(1);
    }, STOP_WITHIN_MS).unref();
    stack.stop().then(
      () => {
        console.log(`stopped in ${Date.now() - started} ms`);
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`stopped with an error: ${failureLine(error)}`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => shutdown(signal, true));
  watchLaunchers((which) => shutdown(`${which} exited`, false), {
    expectNpm: process.env.npm_lifecycle_script?.includes('local/start.ts') === true,
  });

  stack = await startLocalStack({
    httpPort,
    ...(dynamoPort ? { dynamoPort } : {}),
    timeScale,
    profiles: profilesFromEnv(),
    ...(process.env.ACCESS_POLICY_FILE ? { policyFile: process.env.ACCESS_POLICY_FILE } : {}),
    ...(auditLogPath ? { auditLogPath } : {}),
  });
  console.log(banner(stack, timeScale));
};

main().catch((error: unknown) => {
  console.error(failureLine(error));
  process.exit(1);
});
