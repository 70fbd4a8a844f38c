/**
 * vend: latency of create/refresh in units of one AWS round trip, bundle size and cold import time.
 *
 * - vend.create.p50_over_L / vend.refresh.p50_over_L: the real API code with fakes that add a fixed latency
 *   L per AWS call (store call, AssumeRole, PutEvents). A sequential get → assume → put → putEvents path
 *   would be ≥ 4; create runs put ∥ AssumeRole then PutEvents, refresh runs touch then AssumeRole ∥ PutEvents.
 *   vend.refresh_unseen.p50_over_L (no target): a refresh that does not name its profile, in another container:
 *   it reads the row first to learn the profile, then touches: three round trips.
 * - vend.bundle_kb: the handler bundle as `npm run build` makes it (KiB).
 * - vend.import_ms_ratio: cold import of that bundle ÷ cold import of a naive bundle (esbuild defaults for
 *   node: CommonJS entry points first, no aliases) of the same clients + Powertools, each in a fresh
 *   `node` process, interleaved, median of several runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import type { Context } from 'aws-lambda';
import { build } from 'esbuild';
import { ManualClock } from '../../local/manual-clock.js';
import { buildHandler, REQUIRE_SHIM, ROOT } from '../../scripts/build.js';
import { parsePolicy } from '../../src/domain/access-policy-document.js';
import { randomIds } from '../../src/domain/ids.js';
import type { HttpApiEvent } from '../../src/handlers/http/event.js';
import { createVendApi, type VendApiDeps } from '../../src/handlers/http/vend-api.js';
import type { CredentialIssuer, EventPublisher, SessionStore } from '../../src/ports.js';
import { parseProfiles } from '../../src/usecases/vend-profiles.js';
import { silentTelemetry } from '../../src/usecases/vend-telemetry.js';
import { InMemoryCacheClient } from '../../test/support/consumer-fakes.js';
import { InMemorySessionStore } from '../../test/support/in-memory-session-store.js';
import { percentile, round, type Suite, sleep, timeMs } from '../harness.js';

const L = 20;
const RUNS = 40;
const IMPORT_RUNS = 7;

const delayed = <T extends object>(target: T): T =>
  new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await sleep(L);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });

const fixture = (name: string): HttpApiEvent =>
  JSON.parse(readFileSync(join(ROOT, 'events', 'vend', `${name}.json`), 'utf8')) as HttpApiEvent;

/**
 * A 200-rule policy whose deciding rule comes last: 199 rules that do not match this caller (other users,
 * other accounts, other profiles) are walked on every create and refresh.
 */
const BENCH_POLICY = parsePolicy({
  version: 'bench',
  admins: ['arn:aws:iam::*:role/admin'],
  rules: [
    ...Array.from({ length: 199 }, (_, i) => ({
      name: `team-${i}`,
      effect: i % 3 === 0 ? 'deny' : 'allow',
      ...(i % 2 === 0 ? { users: [`user-${i}@example.com`] } : { accounts: [String(100_000_000_000 + i)] }),
      profiles: i % 5 === 0 ? ['*'] : [`profile-${i}`, 'dev'],
    })),
    { name: 'everyone-dev', effect: 'allow', profiles: ['dev'] },
  ],
});

/** The invocation context Lambda passes: Powertools idempotency reads the time left from it. */
const BENCH_CONTEXT = {
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

const latency = async (): Promise<{
  create: number;
  refresh: number;
  refreshUnseen: number;
  keyedCreate: number;
}> => {
  const clock = new ManualClock();
  const store: SessionStore = delayed(new InMemorySessionStore());
  const issuer: CredentialIssuer = delayed({
    issue: async (request) => ({
      AccessKeyId: 'ASIABENCHFAKE0000001',
      SecretAccessKey: 'bench',
      Token: 'bench',
      Expiration: new Date(clock.now().getTime() + request.durationSeconds * 1000).toISOString(),
    }),
  });
  const publisher: EventPublisher = delayed({ publish: async () => ({ failed: [] }) });
  const deps: VendApiDeps = {
    store,
    issuer,
    publisher,
    clock,
    ids: randomIds,
    profiles: parseProfiles({
      dev: {
        roleArn: 'arn:aws:iam::444455556666:role/dev',
        maxDurationSeconds: 3600,
        idleTimeoutSeconds: 3600,
        maxLifetimeSeconds: 43_200,
      },
    }),
    storeFailure: 'deny',
    telemetry: { ...silentTelemetry, correlate: () => undefined },
    policy: { current: async () => BENCH_POLICY },
  };
  const api = createVendApi(deps);
  // Idempotency records in a Valkey-shaped store that also costs L per call (get-or-reserve, then complete).
  const keyed = createVendApi({
    ...deps,
    idempotency: { persistenceStore: new CachePersistenceLayer({ client: new InMemoryCacheClient(L) }) },
  });
  // Another container: it has not seen the sessions, so a refresh reads the row before touching it.
  const otherContainer = createVendApi(deps);
  const create = fixture('create');
  const refresh = fixture('refresh');
  const creates: number[] = [];
  const refreshes: number[] = [];
  const unseenRefreshes: number[] = [];
  const keyedCreates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    keyedCreates.push(
      await timeMs(async () => {
        const event = { ...create, headers: { ...create.headers, 'idempotency-key': `bench-key-${i}` } };
        const response = await keyed(event, BENCH_CONTEXT);
        if (response.statusCode !== 201) throw new Error(`keyed create answered ${response.statusCode}`);
      }),
    );
    let sessionId = '';
    creates.push(
      await timeMs(async () => {
        const response = await api(create);
        sessionId = (JSON.parse(response.body) as { sessionId: string }).sessionId;
        if (response.statusCode !== 201) throw new Error(`create answered ${response.statusCode}`);
      }),
    );
    refreshes.push(
      await timeMs(async () => {
        // As the CLI sends it: the profile named, so the refresh is one conditional touch.
        const response = await api({ ...refresh, body: '{"profile":"dev"}', pathParameters: { sessionId } });
        if (response.statusCode !== 200) throw new Error(`refresh answered ${response.statusCode}`);
      }),
    );
    unseenRefreshes.push(
      await timeMs(async () => {
        const response = await otherContainer({ ...refresh, pathParameters: { sessionId } });
        if (response.statusCode !== 200) throw new Error(`refresh answered ${response.statusCode}`);
      }),
    );
  }
  return {
    create: percentile(creates, 50) / L,
    refresh: percentile(refreshes, 50) / L,
    refreshUnseen: percentile(unseenRefreshes, 50) / L,
    keyedCreate: percentile(keyedCreates, 50) / L,
  };
};

/** The same clients and Powertools utilities as the vend handler, the way a first bundle would take them. */
const NAIVE_ENTRY = `
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import * as z from 'zod/mini';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
const logger = new Logger();
const metrics = new Metrics();
const dynamo = new DynamoDBClient({});
const doc = DynamoDBDocumentClient.from(dynamo);
const sts = new STSClient({});
const events = new EventBridgeClient({});
const ssm = new SSMProvider();
const Policy = z.object({ version: z.string(), rules: z.array(z.object({ name: z.string() })) });
const persistenceStore = new DynamoDBPersistenceLayer({ tableName: process.env.IDEMPOTENCY_TABLE_NAME, awsSdkV3Client: dynamo });
const create = makeIdempotent(async (x) => x, { persistenceStore, config: new IdempotencyConfig({ eventKeyJmesPath: 'a' }) });
export const handler = async (event) => {
  logger.info('x'); metrics.addMetric('x', 'Count', 1);
  Policy.parse(JSON.parse(await ssm.get('/policy')));
  await doc.send(new GetCommand({ TableName: 't', Key: { id: '1' } }));
  await doc.send(new PutCommand({ TableName: 't', Item: { id: '1' } }));
  await doc.send(new UpdateCommand({ TableName: 't', Key: { id: '1' }, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': 1 } }));
  await sts.send(new AssumeRoleCommand({ RoleArn: 'r', RoleSessionName: 's' }));
  await events.send(new PutEventsCommand({ Entries: [] }));
  return create(event);
};
`;

const BENCH_ENV = {
  ...process.env,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'ASIABENCHFAKE0000001',
  AWS_SECRET_ACCESS_KEY: 'bench-fake',
  AWS_SESSION_TOKEN: 'bench-fake',
  AWS_LAMBDA_FUNCTION_NAME: 'bench-vend',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'Bench',
  SESSIONS_TABLE_NAME: 'bench-sessions',
  IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
  EVENT_BUS_NAME: 'bench-bus',
  ACCESS_POLICY_PARAMETER: '/bench/access-policy',
  PROFILES: JSON.stringify({
    dev: {
      roleArn: 'arn:aws:iam::444455556666:role/dev',
      maxDurationSeconds: 3600,
      idleTimeoutSeconds: 3600,
      maxLifetimeSeconds: 43_200,
    },
  }),
};

/** Milliseconds to import `file` in a fresh node process (module evaluation included, process start not). */
const coldImportMs = (file: string): number => {
  const script = `const t=performance.now();await import(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t));`;
  return Number(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: BENCH_ENV,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'], // the SDK's Node-version notice on Node 20
    }),
  );
};

/** The built bundle must answer, not only load: a request without IAM context gets its 401. */
const smokeTest = (file: string): void => {
  const event = JSON.stringify(fixture('missing-auth'));
  const script = `const m=await import(${JSON.stringify(file)});const r=await m.handler(${event},{awsRequestId:'bench',getRemainingTimeInMillis:()=>1000});process.stdout.write(String(r.statusCode));`;
  const status = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...BENCH_ENV, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (status.trim() !== '401') throw new Error(`built vend bundle answered ${status} instead of 401`);
};

const bundles = async (): Promise<{ kb: number; ratio: number; ourMs: number; naiveMs: number }> => {
  const dir = mkdtempSync(join(tmpdir(), 'vend-bench-'));
  try {
    await buildHandler({ entry: 'vend', outdir: join(dir, 'ours') });
    const ours = join(dir, 'ours', 'vend.mjs');
    const naive = join(dir, 'naive', 'naive.mjs');
    await build({
      stdin: { contents: NAIVE_ENTRY, resolveDir: ROOT, loader: 'js', sourcefile: 'naive.js' },
      outfile: naive,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'es2022',
      minify: true,
      banner: { js: REQUIRE_SHIM },
      logLevel: 'error',
    });
    smokeTest(ours);
    const oursMs: number[] = [];
    const naiveMs: number[] = [];
    coldImportMs(ours); // warm the file cache once for both
    coldImportMs(naive);
    for (let i = 0; i < IMPORT_RUNS; i++) {
      oursMs.push(coldImportMs(ours));
      naiveMs.push(coldImportMs(naive));
    }
    const ourMedian = percentile(oursMs, 50);
    const naiveMedian = percentile(naiveMs, 50);
    return {
      kb: statSync(ours).size / 1024,
      ratio: ourMedian / naiveMedian,
      ourMs: ourMedian,
      naiveMs: naiveMedian,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const suite: Suite = {
  name: 'vend',
  targets: [
    { metric: 'vend.create.p50_over_L', op: '<=', value: 2.2 },
    // Three round trips: touch, AssumeRole ∥ PutEvents, then the re-read that withholds credentials from a
    // session ended meanwhile (docs/design.md, "The flow").
    { metric: 'vend.refresh.p50_over_L', op: '<=', value: 3.2 },
    { metric: 'vend.keyed_create.p50_over_L', op: '<=', value: 4.2 },
    { metric: 'vend.bundle_kb', op: '<=', value: 480 },
    { metric: 'vend.import_ms_ratio', op: '<=', value: 0.6 },
  ],
  async run() {
    const { create, refresh, refreshUnseen, keyedCreate } = await latency();
    const { kb, ratio, ourMs, naiveMs } = await bundles();
    return {
      'vend.create.p50_over_L': round(create),
      'vend.refresh.p50_over_L': round(refresh),
      // Informational: a refresh that does not name its profile (get → touch → assume ∥ put).
      'vend.refresh_unseen.p50_over_L': round(refreshUnseen),
      'vend.keyed_create.p50_over_L': round(keyedCreate),
      'vend.bundle_kb': round(kb, 1),
      'vend.import_ms_ratio': round(ratio),
      'vend.import_ms': round(ourMs, 1),
      'vend.import_ms_naive': round(naiveMs, 1),
    };
  },
};

export default suite;
