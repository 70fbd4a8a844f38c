/**
 * Generated hostile input against every route of both HTTP APIs, the access policy parsers and the lifecycle
 * consumer (invariant 6: bad input never writes; invariant 4: identity comes only from IAM; invariant 7:
 * failures are reported). fast-check with a fixed seed, so every run sends the same requests and a failure
 * replays. In-memory fakes count what a request did: session-store writes, STS calls, published events,
 * idempotency records (and, for the consumer, workflow calls).
 *
 * Per request: never a throw, never a 5xx; a request built with any fatal mutation is refused with a 4xx
 * `{code, message}` whose code is one the mutation can cause, and changes nothing (a refusal by the access
 * policy publishes its one VendDenied); a request with only noise is served, as the caller the IAM authorizer
 * names. One summary line is printed at the end.
 */
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../local/manual-clock.js';
import { evaluate } from '../../src/domain/access-policy.js';
import {
  PolicyDocumentError,
  parsePolicy,
  parsePolicyJson,
} from '../../src/domain/access-policy-document.js';
import { parsePolicyDocument } from '../../src/domain/access-policy-yaml.js';
import { parseCallerArn } from '../../src/domain/identity.js';
import { newSession, type Session } from '../../src/domain/session.js';
import type { HttpApiEvent, HttpResult } from '../../src/handlers/http/event.js';
import { createOperatorApi, type OperatorMetric } from '../../src/handlers/http/operator-api.js';
import { createVendApi } from '../../src/handlers/http/vend-api.js';
import { createLifecycleConsumer } from '../../src/handlers/stream/consume.js';
import type { DomainEvent, Page, PageRequest, SessionStore, TouchInput } from '../../src/ports.js';
import {
  eventOf as batchOf,
  RecordingPublisher as ConsumerPublisher,
  InMemoryCacheClient,
  RecordingWorkflows,
} from '../support/consumer-fakes.js';
import {
  badIdempotencyKey,
  badPathParameter,
  badSessionId,
  base64Encoded,
  base64FlagOnRaw,
  deeplyNested,
  FORGED_IDENTITY_KEYS,
  type FuzzRequest,
  fatal,
  forgedContext,
  garbledCaller,
  goodIdempotencyKey,
  headerNoise,
  headersPresentOrNull,
  hostileKey,
  hostileString,
  hugeString,
  jsonText,
  type Mutation,
  malformedJsonText,
  noise,
  nonObjectJsonText,
  nonStringJsonText,
  objectText,
  oversizeBody,
  PROTO_KEYS,
  type RequestDraft,
  requestsFor,
  setBody,
  wrongRoute,
} from '../support/fuzz-arbitraries.js';
import { clone, policyBreakers, policyTexts } from '../support/fuzz-policy-documents.js';
import { goodId, STREAM_TIME, type StreamCase, streamBatches } from '../support/fuzz-stream-records.js';
import { InMemorySessionStore } from '../support/in-memory-session-store.js';
import { ADMIN_ARN, ALICE_ARN, BOB_ARN, EXECUTION_LINKS, operatorFixture } from '../support/operator-api.js';
import { RecordingPublisher } from '../support/recording-publisher.js';
import {
  FakeIssuer,
  FixedPolicySource,
  fixture,
  lambdaContext,
  NOW,
  PROFILES,
  RecordingTelemetry,
  SequentialIds,
} from '../support/vend-api.js';

/** One seed for the whole file: change it to explore, never to make a failure go away. */
const SEED = 20_261_128;
const RUNS_PER_TARGET = 1_000;

// ---------------------------------------------------------------------------------------------------------
// The world every request runs against: a few sessions, counting fakes
// ---------------------------------------------------------------------------------------------------------

const ALICE_ACTIVE = '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79';
const ALICE_SECOND = '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a7a';
const ALICE_REVOKED = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
const ALICE_EXPIRED = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2';
const BOB_ACTIVE = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1';
const UNKNOWN_ID = 'cccccccccccccccccccccccccccccccc';

/** Admins are the SecOps permission set; prod is closed by a deny rule (a defined refusal: AccessDenied). */
const FUZZ_POLICY = parsePolicy({
  version: 'fuzz-1',
  admins: ['arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_SecOps_*/*'],
  rules: [
    { name: 'prod-closed', effect: 'deny', profiles: ['prod'], reason: 'prod is closed' },
    { name: 'allow-all', effect: 'allow' },
  ],
});

const dev = PROFILES.get('dev');
if (!dev) throw new Error('the vend fixtures define a dev profile');

const sessionFor = (sessionId: string, arn: string, at: Date): Session =>
  newSession({
    sessionId,
    caller: parseCallerArn(arn),
    profile: 'dev',
    roleArn: dev.roleArn,
    sourceIdentity: 'sentinel=fuzz=direct=seed',
    policy: dev.policy,
    now: at,
  });

/** A SessionStore that counts the writes that took effect (a refused conditional write changes nothing). */
class CountingStore implements SessionStore {
  writes = 0;
  constructor(readonly inner: InMemorySessionStore) {}
  async create(session: Session): Promise<void> {
    await this.inner.create(session);
    this.writes++;
  }
  get(sessionId: string) {
    return this.inner.get(sessionId);
  }
  async touch(sessionId: string, input: TouchInput) {
    const result = await this.inner.touch(sessionId, input);
    if (result.ok) this.writes++;
    return result;
  }
  async revoke(sessionId: string, input: Parameters<SessionStore['revoke']>[1]) {
    const result = await this.inner.revoke(sessionId, input);
    if (result.ok) this.writes++;
    return result;
  }
  async expire(sessionId: string, input: Parameters<SessionStore['expire']>[1]) {
    const result = await this.inner.expire(sessionId, input);
    if (result.ok) this.writes++;
    return result;
  }
  listByUser(user: string, page?: PageRequest): Promise<Page<Session>> {
    return this.inner.listByUser(user, page);
  }
  listActive(now: Date, page?: PageRequest): Promise<Page<Session>> {
    return this.inner.listActive(now, page);
  }
  listEnforceable(since: Date, page?: PageRequest): Promise<Page<Session>> {
    return this.inner.listEnforceable(since, page);
  }
}

const seededStore = async (clock: ManualClock): Promise<CountingStore> => {
  const earlier = new Date(clock.now().getTime() - 600_000);
  const inner = new InMemorySessionStore().seed(
    sessionFor(ALICE_ACTIVE, ALICE_ARN, earlier),
    sessionFor(ALICE_SECOND, ALICE_ARN, new Date(earlier.getTime() + 1_000)),
    sessionFor(ALICE_REVOKED, ALICE_ARN, earlier),
    sessionFor(ALICE_EXPIRED, ALICE_ARN, earlier),
    sessionFor(BOB_ACTIVE, BOB_ARN, earlier),
  );
  await inner.revoke(ALICE_REVOKED, { by: ADMIN_ARN, reason: 'seeded', now: clock.now() });
  await inner.expire(ALICE_EXPIRED, { reason: 'forced', now: clock.now(), force: true });
  return new CountingStore(inner);
};

/** What one request did, as the fakes saw it. */
interface Observed {
  readonly response: HttpResult | undefined;
  readonly thrown: unknown;
  readonly writes: number;
  readonly stsCalls: number;
  readonly events: readonly DomainEvent[];
  readonly idempotencyRecords: number;
  readonly rowsChanged: boolean;
  readonly rowsAfter: readonly Session[];
}

type Api = (event: HttpApiEvent) => Promise<HttpResult>;

interface World {
  readonly api: Api;
  readonly store: CountingStore;
  readonly issuer: FakeIssuer;
  readonly publisher: RecordingPublisher;
  readonly idempotency: InMemoryCacheClient;
}

const vendWorld = async (): Promise<World> => {
  const clock = new ManualClock(NOW);
  const store = await seededStore(clock);
  const issuer = new FakeIssuer(clock);
  const publisher = new RecordingPublisher();
  const idempotency = new InMemoryCacheClient();
  const vend = createVendApi({
    store,
    issuer,
    publisher,
    clock,
    ids: new SequentialIds(),
    profiles: PROFILES,
    storeFailure: 'deny',
    telemetry: new RecordingTelemetry(),
    policy: new FixedPolicySource(FUZZ_POLICY),
    idempotency: { persistenceStore: new CachePersistenceLayer({ client: idempotency }) },
  });
  return { api: (event) => vend(event, lambdaContext('fuzz')), store, issuer, publisher, idempotency };
};

const operatorWorld = async (): Promise<World> => {
  const clock = new ManualClock(NOW);
  const store = await seededStore(clock);
  const operator = createOperatorApi({
    store,
    clock,
    policy: new FixedPolicySource(FUZZ_POLICY),
    telemetry: new RecordingTelemetry<OperatorMetric>(),
    executions: EXECUTION_LINKS,
  });
  return {
    api: (event) => operator(event, lambdaContext('fuzz')),
    store,
    // The operator API has no STS, bus or idempotency port: these stay empty, and are checked all the same.
    issuer: new FakeIssuer(clock),
    publisher: new RecordingPublisher(),
    idempotency: new InMemoryCacheClient(),
  };
};

/** Runs one request in `world`, never letting a throw escape: the property judges it. */
const observe = async (world: World, event: HttpApiEvent, wrap: (api: Api) => Api = (api) => api) => {
  const before = JSON.stringify(world.store.inner.all());
  let response: HttpResult | undefined;
  let thrown: unknown;
  try {
    response = await wrap(world.api)(event);
  } catch (error) {
    thrown = error ?? new Error('a falsy value was thrown');
  }
  const rowsAfter = world.store.inner.all();
  const observed: Observed = {
    response,
    thrown,
    writes: world.store.writes,
    stsCalls: world.issuer.signals.length,
    events: world.publisher.events,
    idempotencyRecords: world.idempotency.size,
    rowsChanged: JSON.stringify(rowsAfter) !== before,
    rowsAfter,
  };
  return observed;
};

// ---------------------------------------------------------------------------------------------------------
// The property, and what the suite saw
// ---------------------------------------------------------------------------------------------------------

/** Checks run on a request that was served (2xx): the right effects, as the right caller. */
type ServedCheck = (observed: Observed, body: Record<string, unknown>, request: FuzzRequest) => string[];

const tally = {
  runs: new Map<string, number>(),
  byCode: new Map<string, number>(),
  served: 0,
  refusals: 0,
  effectsOnRefusal: { writes: 0, stsCalls: 0, events: 0, idempotencyRecords: 0 },
  counterexamples: 0,
};
const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** Codes that say "you may not" about a well-formed request, as opposed to "this request is malformed". */
const DEFINED_REFUSALS = new Set([
  'ProfileNotAllowed',
  'AccessDenied',
  'NotOwner',
  'SessionRevoked',
  'SessionExpired',
  'SessionNotFound',
  'ProfileMismatch',
  'AdminRequired',
  'SessionAlreadyTerminal',
]);

const jsonBody = (response: HttpResult): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(response.body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/** Every way `observed` breaks the property for `request` (empty: it holds). Pure, so it can judge a broken API too. */
const violations = (request: FuzzRequest, observed: Observed, served: ServedCheck): string[] => {
  const { response } = observed;
  if (observed.thrown !== undefined) return [`threw ${String(observed.thrown)}`];
  if (!response) return ['no response'];
  const problems: string[] = [];
  const body = jsonBody(response);
  if (!body) problems.push(`body is not a JSON object: ${response.body.slice(0, 80)}`);
  if (response.headers['content-type'] !== 'application/json') problems.push('content-type is not JSON');
  if (response.statusCode >= 500) problems.push(`answered ${response.statusCode}`);
  if (request.refusalCodes.length === 0) {
    if (response.statusCode < 200 || response.statusCode > 299) {
      problems.push(`a valid request was refused: ${response.statusCode} ${response.body.slice(0, 200)}`);
    } else if (body) {
      problems.push(...served(observed, body, request));
    }
    return problems;
  }
  if (response.statusCode < 400 || response.statusCode > 499) {
    problems.push(`a bad request was answered ${response.statusCode}`);
  }
  const code = body?.code;
  if (typeof code !== 'string' || typeof body?.message !== 'string') {
    problems.push('an error without string code and message');
  } else if (!request.refusalCodes.includes(code)) {
    problems.push(`refused with ${code}, expected one of ${request.refusalCodes.join(', ')}`);
  }
  const extra = Object.keys(body ?? {}).filter((key) => !['code', 'message', 'status'].includes(key));
  if (extra.length > 0) problems.push(`error body has extra fields ${extra.join(', ')}`);
  if (observed.writes > 0 || observed.rowsChanged)
    problems.push(`a refused request wrote (${observed.writes})`);
  if (observed.stsCalls > 0) problems.push(`a refused request called STS ${observed.stsCalls} times`);
  if (observed.idempotencyRecords > 0) problems.push('a refused request left an idempotency record');
  // The access policy's refusal is announced on the fast path (VendDenied); nothing else is published.
  const allowedEvents = code === 'AccessDenied' ? ['VendDenied'] : [];
  const published = observed.events.map((event) => event.detailType);
  if (JSON.stringify(published) !== JSON.stringify(allowedEvents)) {
    problems.push(`a refused request published ${published.join(', ') || 'nothing'}`);
  }
  return problems;
};

const record = (target: string, observed: Observed, problems: readonly string[]): void => {
  bump(tally.runs, target);
  const status = observed.response?.statusCode ?? 0;
  const code = observed.response ? jsonBody(observed.response)?.code : undefined;
  if (status >= 200 && status < 300) tally.served++;
  if (status >= 400 && status < 500 && typeof code === 'string') {
    bump(tally.byCode, `${status} ${code}`);
    if (DEFINED_REFUSALS.has(code)) tally.refusals++;
    tally.effectsOnRefusal.writes += observed.writes;
    tally.effectsOnRefusal.stsCalls += observed.stsCalls;
    tally.effectsOnRefusal.events += observed.events.filter((e) => e.detailType !== 'VendDenied').length;
    tally.effectsOnRefusal.idempotencyRecords += observed.idempotencyRecords;
  }
  if (problems.length > 0) tally.counterexamples++;
};

/** A generated value cut down to something a person can read in a failure message. */
const brief = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'string' && v.length > 120 ? `${v.slice(0, 60)}…(${v.length} chars)` : v,
  );

/**
 * Runs `property` on RUNS_PER_TARGET generated values with the file's seed; a failure names the shrunk
 * counterexample briefly (fast-check's own report would print every huge generated string in full).
 */
const checkProperty = async <T>(arbitrary: fc.Arbitrary<T>, property: (value: T) => Promise<void>) => {
  const result = await fc.check(fc.asyncProperty(arbitrary, property), {
    seed: SEED,
    numRuns: RUNS_PER_TARGET,
  });
  if (result.failed) {
    const cause =
      result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
    throw new Error(
      `counterexample (seed ${result.seed}, path ${result.counterexamplePath}): ${cause}\n  value: ${brief(result.counterexample)}`,
    );
  }
};

const runRoute = async (
  target: string,
  world: () => Promise<World>,
  requests: fc.Arbitrary<FuzzRequest>,
  served: ServedCheck,
): Promise<void> => {
  let servedRuns = 0;
  await checkProperty(requests, async (request) => {
    const observed = await observe(await world(), request.event);
    const problems = violations(request, observed, served);
    record(target, observed, problems);
    if (request.refusalCodes.length === 0) servedRuns++;
    if (problems.length > 0)
      throw new Error(`${problems.join('; ')}\n  mutations: ${request.mutations.join(' | ')}`);
  });
  // Not vacuous: a share of the generated requests was valid, and served.
  expect(servedRuns).toBeGreaterThanOrEqual(RUNS_PER_TARGET / 20);
};

// ---------------------------------------------------------------------------------------------------------
// Bodies and mutations per route
// ---------------------------------------------------------------------------------------------------------

/** Bodies with a field that is not allowed: a forged identity field, a prototype key, an odd-case name. */
const withForeignField = (valid: readonly (readonly [string, string])[], allowed: readonly string[]) =>
  fc
    .tuple(
      fc.oneof(fc.constantFrom(...FORGED_IDENTITY_KEYS, ...PROTO_KEYS), hostileKey),
      fc.oneof(
        fc.constantFrom(
          JSON.stringify(ADMIN_ARN),
          JSON.stringify(BOB_ARN),
          JSON.stringify(UNKNOWN_ID),
          'true',
          '{"polluted":"yes"}',
        ),
        jsonText,
      ),
      fc.boolean(),
    )
    .filter(([key]) => !allowed.includes(key))
    .map(([key, value, first]) =>
      setBody(
        `body with forged field ${JSON.stringify(key.slice(0, 20))}`,
        ['UnknownField'],
        objectText(first ? [[key, value], ...valid] : [...valid, [key, value]]),
      ),
    );

/**
 * A route's fatal mutations: its own, and less often a garbled caller or a wrong route (both are checked
 * first, so they would otherwise hide most of the route's own checks).
 */
const routeFatal = (...own: fc.Arbitrary<Mutation>[]): fc.Arbitrary<Mutation> =>
  fc.oneof(
    { weight: 2, arbitrary: garbledCaller },
    { weight: 1, arbitrary: wrongRoute },
    ...own.map((arbitrary) => ({ weight: 3, arbitrary })),
  );

/** Fatal bodies every JSON route refuses, whatever its fields. */
const commonBadBodies = (validBody: string): fc.Arbitrary<Mutation> =>
  fc.oneof(
    malformedJsonText.map((text) => setBody('malformed JSON', ['MalformedJson', 'BodyTooLarge'], text)),
    nonObjectJsonText
      .filter((text) => text.trim() !== '')
      .map((text) => setBody('JSON that is not an object', ['InvalidBody', 'BodyTooLarge'], text)),
    deeplyNested.map((text) =>
      setBody('deeply nested JSON', ['InvalidBody', 'UnknownField', 'BodyTooLarge'], text),
    ),
    oversizeBody(validBody).map((text) => setBody('oversize body', ['BodyTooLarge'], text)),
    fc.constant(base64FlagOnRaw(validBody)),
  );

/**
 * The headers without any Idempotency-Key: payload 2.0 lower-cases names and joins repeated headers with
 * commas, so one request never carries two keys that differ only in case.
 */
const withoutIdempotencyKey = (headers: RequestDraft['headers']): Record<string, string | undefined> =>
  Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name]) => name.toLowerCase() !== 'idempotency-key'),
  );

// -- vend: POST /v1/sessions ---------------------------------------------------------------------------------

const createRequests = (() => {
  const validBody = fc.oneof(
    fc.constantFrom(
      '{"profile":"dev"}',
      ' {"profile" : "dev"}\n',
      '{"profile":"dev","durationSeconds":3600}',
    ),
    fc.integer({ min: 900, max: 3600 }).map((n) => `{"durationSeconds":${n},"profile":"dev"}`),
  );
  const validKey = fc.oneof(
    fc.constant(noise('no Idempotency-Key', () => undefined)),
    fc
      .tuple(goodIdempotencyKey, fc.constantFrom('idempotency-key', 'Idempotency-Key', 'IDEMPOTENCY-KEY'))
      .map(([key, name]) =>
        noise(`Idempotency-Key as ${name}`, (d) => {
          d.headers = { ...(d.headers ?? {}), [name]: key };
        }),
      ),
  );
  const profile = (text: string) => objectText([['profile', text]]);
  const badField = fc.oneof(
    nonStringJsonText.map((text) => setBody('profile of another type', ['InvalidField'], profile(text))),
    hostileString(80)
      .filter((name) => !/^[A-Za-z0-9_.-]{1,64}$/.test(name))
      .map((name) =>
        setBody('profile name outside the charset', ['InvalidField'], profile(JSON.stringify(name))),
      ),
    fc
      .stringMatching(/^[A-Za-z0-9_.-]{1,64}$/)
      .filter((name) => name !== 'dev' && name !== 'prod')
      .map((name) =>
        setBody('profile not on the allowlist', ['ProfileNotAllowed'], profile(JSON.stringify(name))),
      ),
    fc.constant(setBody('a denied profile', ['AccessDenied'], '{"profile":"prod"}')),
    fc
      .oneof(
        fc.constantFrom(
          '899',
          '3601',
          '0',
          '-1',
          '1e400',
          '900.5',
          '9007199254740993',
          '"3600"',
          'null',
          '[900]',
        ),
        nonStringJsonText,
        fc
          .integer()
          .filter((n) => n < 900 || n > 3600)
          .map(String),
      )
      .map((text) =>
        setBody(
          'durationSeconds out of range or of another type',
          ['InvalidField', 'DurationOutOfRange'],
          objectText([
            ['profile', '"dev"'],
            ['durationSeconds', text],
          ]),
        ),
      ),
    fc.constantFrom(
      setBody('no body', ['InvalidBody'], undefined),
      setBody('null body', ['InvalidBody'], null),
      setBody('blank body', ['InvalidBody'], ' \n\t '),
      setBody('empty object', ['InvalidField'], '{}'),
      setBody('duplicate profile, the last one bad', ['InvalidField'], '{"profile":"dev","profile":7}'),
    ),
    withForeignField([['profile', '"dev"']], ['profile', 'durationSeconds']),
  );
  const badKey = fc.oneof(
    fc
      .tuple(badIdempotencyKey, fc.constantFrom('idempotency-key', 'Idempotency-Key', 'iDeMpOtEnCy-KeY'))
      .map(([key, name]) =>
        fatal(`bad Idempotency-Key in ${name}`, ['InvalidIdempotencyKey'], (d) => {
          d.headers = { ...withoutIdempotencyKey(d.headers), [name]: key };
        }),
      ),
    fc.tuple(goodIdempotencyKey, goodIdempotencyKey).map(([a, b]) =>
      fatal('two Idempotency-Keys merged by API Gateway', ['InvalidIdempotencyKey'], (d) => {
        d.headers = { ...withoutIdempotencyKey(d.headers), 'idempotency-key': `${a},${b}` };
      }),
    ),
  );
  return requestsFor({
    base: fixture('create'),
    valid: [
      validBody.map((text) => setBody('valid create body', undefined, text)),
      headersPresentOrNull,
      validKey,
    ],
    fatal: routeFatal(badField, commonBadBodies('{"profile":"dev"}'), badKey),
    noise: fc.oneof(headerNoise, forgedContext, fc.constant(base64Encoded)),
  });
})();

const servedCreate: ServedCheck = (observed, body) => {
  const problems: string[] = [];
  const created = observed.rowsAfter.find((row) => row.sessionId === body.sessionId);
  if (!created) return ['served, but no row for the session'];
  if (created.principalArn !== ALICE_ARN) problems.push(`the session belongs to ${created.principalArn}`);
  if (observed.writes !== 1 || observed.stsCalls !== 1) {
    problems.push(`served with ${observed.writes} writes and ${observed.stsCalls} STS calls`);
  }
  if (!observed.events.some((event) => event.detailType === 'SessionCreated'))
    problems.push('no SessionCreated');
  return problems;
};

// -- vend: POST /v1/sessions/{sessionId}/credentials --------------------------------------------------------------

const idNamed = (sessionId: string, codes: readonly string[], name: string): Mutation =>
  fatal(name, codes, (d) => {
    d.pathParameters = { ...(d.pathParameters ?? {}), sessionId };
  });

const refreshRequests = (() => {
  const validBody = fc.constantFrom<string | null | undefined>(
    undefined,
    null,
    '',
    '{}',
    ' \n',
    '{"profile":"dev"}',
  );
  const sessionCodes = ['InvalidSessionId'];
  const badTarget = fc.oneof(
    badPathParameter('sessionId', sessionCodes, badSessionId),
    fc.constantFrom(
      idNamed(UNKNOWN_ID, ['SessionNotFound'], 'a session that does not exist'),
      idNamed(BOB_ACTIVE, ['NotOwner'], "someone else's session"),
      idNamed(ALICE_REVOKED, ['SessionRevoked'], 'a revoked session'),
      idNamed(ALICE_EXPIRED, ['SessionExpired'], 'an expired session'),
    ),
  );
  const profile = (text: string) => objectText([['profile', text]]);
  const badBody = fc.oneof(
    nonStringJsonText.map((text) => setBody('profile of another type', ['InvalidField'], profile(text))),
    hostileString(80)
      .filter((name) => !/^[A-Za-z0-9_.-]{1,64}$/.test(name))
      .map((name) =>
        setBody('profile name outside the charset', ['InvalidField'], profile(JSON.stringify(name))),
      ),
    fc
      .stringMatching(/^[A-Za-z0-9_.-]{1,64}$/)
      .filter((name) => name !== 'dev')
      .map((name) =>
        setBody(
          "another profile than the session's",
          ['ProfileMismatch', 'ProfileNotAllowed', 'AccessDenied'],
          profile(JSON.stringify(name)),
        ),
      ),
    withForeignField([['profile', '"dev"']], ['profile']),
    commonBadBodies('{"profile":"dev"}'),
  );
  const anyKey = fc.oneof(goodIdempotencyKey, badIdempotencyKey).map((key) =>
    fatal('Idempotency-Key on a refresh', ['IdempotencyNotSupported', 'InvalidIdempotencyKey'], (d) => {
      d.headers = { ...(d.headers ?? {}), 'Idempotency-Key': key };
    }),
  );
  return requestsFor({
    base: fixture('refresh'),
    valid: [validBody.map((text) => setBody('valid refresh body', undefined, text)), headersPresentOrNull],
    fatal: routeFatal(badTarget, badBody, anyKey),
    noise: fc.oneof(headerNoise, forgedContext, fc.constant(base64Encoded)),
  });
})();

const servedRefresh: ServedCheck = (observed, body) => {
  const problems: string[] = [];
  if (body.sessionId !== ALICE_ACTIVE) problems.push(`refreshed ${String(body.sessionId)}`);
  if (observed.writes !== 1 || observed.stsCalls !== 1) {
    problems.push(`served with ${observed.writes} writes and ${observed.stsCalls} STS calls`);
  }
  return problems;
};

// -- operator: the four routes --------------------------------------------------------------------------------------

/** Percent-encodes UTF-8 bytes (lone surrogates become U+FFFD, as a client's encoder would make them). */
const encode = (text: string): string =>
  [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
/** The text as it reads after a UTF-8 round trip (lone surrogates become U+FFFD). */
const wellFormed = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');

const LIST_PARAMETERS = ['limit', 'cursor', 'user', 'principal', 'profile', 'status'];
const setQuery = (name: string, codes: readonly string[] | undefined, query: string): Mutation =>
  codes === undefined
    ? noise(name, (d) => {
        d.rawQueryString = query;
      })
    : fatal(name, codes, (d) => {
        d.rawQueryString = query;
      });

const forgedCursor = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

const listRequests = (() => {
  const validQuery = fc
    .constantFrom(
      '',
      'limit=10',
      'limit=1',
      'limit=100&status=active',
      'status=active',
      'profile=dev',
      'user=alice%40example.com',
      `principal=${encodeURIComponent(ALICE_ARN)}`,
      `user=alice%40example.com&principal=${encodeURIComponent(ALICE_ARN)}`,
    )
    .map((query) => setQuery(`valid query ${query.slice(0, 30)}`, undefined, query));
  const badQuery = fc.oneof(
    hostileString(30)
      .filter((key) => key !== '' && !LIST_PARAMETERS.includes(wellFormed(key)))
      .map((key) => setQuery('unknown query parameter', ['UnknownParameter'], `${encode(key)}=1`)),
    fc
      .constantFrom(...LIST_PARAMETERS)
      .map((name) => setQuery(`${name} twice`, ['DuplicateParameter'], `${name}=dev&${name}=dev`)),
    fc
      .oneof(
        fc.constantFrom('0', '101', '-1', '1e2', '10.0', '', ' 10', '0x10', '1000', 'ten'),
        hostileString(10),
      )
      .filter((limit) => !/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 100)
      .map((limit) => setQuery('bad limit', ['InvalidParameter'], `limit=${encode(limit)}`)),
    fc
      .oneof(
        hostileString(60).filter((c) => !/^[A-Za-z0-9_-]{1,4096}$/.test(c)),
        fc.constantFrom(
          forgedCursor({ k: 'user', user: 'bob@example.com', createdAt: NOW, sessionId: BOB_ACTIVE }),
          forgedCursor({ k: 'active', expiresAt: NOW, sessionId: BOB_ACTIVE }),
          forgedCursor({ __proto__: { k: 'user' }, polluted: true }),
          forgedCursor(['user']),
          'A'.repeat(5000),
          'e30',
        ),
      )
      .map((cursor) =>
        setQuery('forged or garbled cursor', ['InvalidCursor', 'QueryTooLong'], `cursor=${encode(cursor)}`),
      ),
    hostileString(70)
      .filter((user) => !/^[\w+=,.@-]{1,64}(?:\/[\w+=,.@-]{2,64})?$/.test(wellFormed(user)))
      .map((user) =>
        setQuery('user that is no canonical user', ['InvalidParameter'], `user=${encode(user)}`),
      ),
    fc.constantFrom(
      setQuery("another user's sessions", ['AdminRequired'], 'user=bob%40example.com'),
      setQuery("another principal's sessions", ['AdminRequired'], `principal=${encodeURIComponent(BOB_ARN)}`),
      setQuery('every active session', ['AdminRequired'], 'status=active&user=bob%40example.com'),
      setQuery(
        'principal and user that disagree',
        ['ConflictingFilters'],
        `user=bob%40example.com&principal=${encodeURIComponent(ALICE_ARN)}`,
      ),
      setQuery(
        'root as principal',
        ['InvalidParameter'],
        `principal=${encodeURIComponent('arn:aws:iam::111122223333:root')}`,
      ),
      setQuery('status other than active', ['InvalidParameter'], 'status=revoked'),
      setQuery('status in capitals', ['InvalidParameter'], 'status=ACTIVE'),
      setQuery('query string too long', ['QueryTooLong'], `limit=10&profile=${'a'.repeat(8200)}`),
      setQuery('prototype keys', ['UnknownParameter'], '__proto__=1&constructor=2'),
    ),
    hostileString(70).map((principal) =>
      setQuery('principal that is no caller ARN', ['InvalidParameter'], `principal=${encode(principal)}`),
    ),
    hostileString(70)
      .filter((profile) => !/^[A-Za-z0-9_.-]{1,64}$/.test(wellFormed(profile)))
      .map((profile) => setQuery('bad profile filter', ['InvalidParameter'], `profile=${encode(profile)}`)),
    fc.constant(
      fatal('parsed query only, with a prototype key', ['UnknownParameter'], (d) => {
        d.rawQueryString = undefined;
        d.queryStringParameters = JSON.parse('{"__proto__":"x","limit":"10"}');
      }),
    ),
  );
  const body = fc
    .oneof(
      hostileString(40).filter((text) => text !== ''),
      jsonText,
      hugeString,
    )
    .map((text) => setBody('a body on a GET', ['UnexpectedBody', 'BodyTooLarge'], text));
  return requestsFor({
    base: operatorFixture('list'),
    valid: [validQuery, headersPresentOrNull],
    fatal: routeFatal(badQuery, body),
    noise: fc.oneof(headerNoise, forgedContext),
  });
})();

const servedList: ServedCheck = (observed, body) => {
  const sessions = body.sessions;
  if (!Array.isArray(sessions)) return ['no sessions list'];
  const foreign = sessions.filter((s) => (s as { principalArn?: unknown }).principalArn !== ALICE_ARN);
  return [
    ...(foreign.length > 0 ? [`listed ${foreign.length} sessions of someone else`] : []),
    ...(observed.writes > 0 ? ['a listing wrote'] : []),
  ];
};

const bodyOnGet = fc
  .oneof(
    hostileString(40).filter((text) => text !== ''),
    jsonText,
  )
  .map((text) => setBody('a body on a GET', ['UnexpectedBody'], text));

const showRequests = requestsFor({
  base: operatorFixture('show'),
  valid: [
    fc
      .constantFrom(ALICE_ACTIVE, ALICE_REVOKED, ALICE_EXPIRED)
      .map((id) =>
        noise(
          `own session ${id.slice(0, 6)}`,
          (d) => void Object.assign(d, { pathParameters: { sessionId: id } }),
        ),
      ),
  ],
  fatal: routeFatal(
    bodyOnGet,
    badPathParameter('sessionId', ['InvalidSessionId'], badSessionId),
    fc.constantFrom(
      idNamed(UNKNOWN_ID, ['SessionNotFound'], 'a session that does not exist'),
      idNamed(BOB_ACTIVE, ['SessionNotFound'], "someone else's session"),
    ),
  ),
  noise: fc.oneof(headerNoise, forgedContext),
});

const servedShow: ServedCheck = (observed, body, request) => {
  const session = body.session as { sessionId?: unknown; principalArn?: unknown } | undefined;
  const asked = request.event.pathParameters?.sessionId;
  return [
    ...(session?.sessionId !== asked ? [`showed ${String(session?.sessionId)} for ${String(asked)}`] : []),
    ...(session?.principalArn !== ALICE_ARN ? ['showed a session of someone else'] : []),
    ...(observed.writes > 0 ? ['a show wrote'] : []),
  ];
};

const validReason = fc
  .constantFrom(
    'laptop lost',
    'compromised 😀',
    'ß İ é 中文',
    'x'.repeat(256),
    ' padded ',
    'Reason: "quoted" \\ backslash',
  )
  .map((reason) => setBody('valid reason', undefined, JSON.stringify({ reason })));

const badReasonBodies = fc.oneof(
  fc
    .oneof(
      fc.constantFrom(
        '',
        ' ',
        '\t',
        'x'.repeat(257),
        '😀'.repeat(257),
        'line\nbreak',
        'nul\u0000',
        'del\u007f',
        'c1\u0085',
        'bell\u0007',
      ),
      fc
        .tuple(hostileString(20), fc.constantFrom('\u0000', '\n', '\r', '\u001b', '\u009b'))
        .map(([a, c]) => `${a}${c}`),
    )
    .map((reason) =>
      setBody(
        'reason blank, too long or with control characters',
        ['InvalidField', 'BodyTooLarge'],
        JSON.stringify({ reason }),
      ),
    ),
  nonStringJsonText.map((text) =>
    setBody('reason of another type', ['InvalidField'], objectText([['reason', text]])),
  ),
  fc.constantFrom(
    setBody('no reason', ['InvalidField'], '{}'),
    setBody('no body', ['InvalidBody'], undefined),
    setBody('blank body', ['InvalidBody'], '   '),
    setBody('duplicate reason, the last one bad', ['InvalidField'], '{"reason":"ok","reason":""}'),
  ),
  withForeignField([['reason', '"laptop lost"']], ['reason']),
  commonBadBodies('{"reason":"laptop lost"}'),
);

const revokeRequests = requestsFor({
  base: operatorFixture('revoke'),
  valid: [
    fc
      .constantFrom(ALICE_ACTIVE, ALICE_SECOND)
      .map((id) =>
        noise(
          `own session ${id.slice(-4)}`,
          (d) => void Object.assign(d, { pathParameters: { sessionId: id } }),
        ),
      ),
    validReason,
  ],
  fatal: routeFatal(
    badReasonBodies,
    badPathParameter('sessionId', ['InvalidSessionId'], badSessionId),
    fc.constantFrom(
      idNamed(UNKNOWN_ID, ['SessionNotFound'], 'a session that does not exist'),
      idNamed(BOB_ACTIVE, ['SessionNotFound'], "someone else's session"),
      idNamed(ALICE_REVOKED, ['SessionAlreadyTerminal'], 'a revoked session'),
      idNamed(ALICE_EXPIRED, ['SessionAlreadyTerminal'], 'an expired session'),
    ),
  ),
  noise: fc.oneof(headerNoise, forgedContext, fc.constant(base64Encoded)),
});

const servedRevoke: ServedCheck = (observed, body, request) => {
  const asked = request.event.pathParameters?.sessionId;
  const row = observed.rowsAfter.find((r) => r.sessionId === asked);
  return [
    ...(observed.writes !== 1 ? [`revoked with ${observed.writes} writes`] : []),
    ...(row?.status !== 'revoked' ? ['the session is not revoked'] : []),
    ...(row?.revokedBy !== ALICE_ARN ? [`revokedBy is ${String(row?.revokedBy)}`] : []),
    ...((body.session as { sessionId?: unknown } | undefined)?.sessionId !== asked
      ? ['answered another session']
      : []),
  ];
};

const userNamed = (user: string, codes: readonly string[], name: string): Mutation =>
  fatal(name, codes, (d) => {
    d.pathParameters = { user };
  });

const revokeUserRequests = requestsFor({
  base: operatorFixture('revoke-user'),
  valid: [
    fc
      .constantFrom(
        'alice@example.com',
        'bob@example.com',
        'nobody',
        'corp-sso%2Fdave',
        'corp-sso%2fdave',
        '..%2F..',
      )
      .map((user) => noise(`user ${user}`, (d) => void Object.assign(d, { pathParameters: { user } }))),
    validReason,
  ],
  fatal: routeFatal(
    badReasonBodies,
    badPathParameter(
      'user',
      ['InvalidUser'],
      hostileString(140).filter(
        (user) => !/^[\w+=,.@-]{1,64}(?:\/[\w+=,.@-]{2,64})?$/.test(user.replace(/%2F/gi, '/')),
      ),
    ),
    fc.constantFrom(
      userNamed('a/b/c', ['InvalidUser'], 'two slashes'),
      userNamed('a%252Fb', ['InvalidUser'], 'slash encoded twice'),
      userNamed(`${'a'.repeat(65)}`, ['InvalidUser'], 'name too long'),
      fatal('a caller that is no admin', ['AdminRequired'], (d) => {
        const context = d.requestContext as { authorizer?: { iam?: Record<string, unknown> } } | null;
        if (context?.authorizer?.iam) context.authorizer.iam.userArn = ALICE_ARN;
      }),
    ),
  ),
  noise: fc.oneof(headerNoise, forgedContext, fc.constant(base64Encoded)),
});

const servedRevokeUser: ServedCheck = (observed, body, request) => {
  const user = (request.event.pathParameters?.user ?? '').replace(/%2F/gi, '/');
  const changed = observed.rowsAfter.filter(
    (row) => row.revokedReason !== 'seeded' && row.status === 'revoked',
  );
  return [
    ...(body.user !== user ? [`answered for ${String(body.user)}`] : []),
    ...(body.revoked !== observed.writes
      ? [`reported ${String(body.revoked)} revoked, wrote ${observed.writes}`]
      : []),
    ...changed.filter((row) => row.user !== user).map((row) => `revoked ${row.sessionId} of ${row.user}`),
    ...changed
      .filter((row) => row.revokedBy !== ADMIN_ARN)
      .map((row) => `revokedBy ${String(row.revokedBy)}`),
    ...observed.rowsAfter
      .filter((row) => row.user === user && row.status === 'active')
      .map((row) => `${row.sessionId} is still active`),
  ];
};

// -- the lifecycle consumer and the policy parsers: what they did, and whether it holds ------------------------

type Consume = ReturnType<typeof createLifecycleConsumer>;

const consumerRun = async (records: readonly DynamoDBRecord[], wrap: (consume: Consume) => Consume) => {
  const workflows = new RecordingWorkflows();
  const publisher = new ConsumerPublisher();
  const consume = wrap(
    createLifecycleConsumer({
      workflows,
      events: publisher,
      clock: new ManualClock(STREAM_TIME),
      log: { warn: () => undefined, error: () => undefined },
    }),
  );
  let failures: string[] | undefined;
  let thrown: unknown;
  try {
    failures = (await consume(batchOf(...records))).batchItemFailures.map((f) => f.itemIdentifier);
  } catch (error) {
    thrown = error;
  }
  const effects = [
    ...workflows.calls.map((call) => JSON.stringify(call)),
    ...publisher.accepted.map((event) => JSON.stringify(event)),
  ].sort();
  return { failures, thrown, effects, workflowCalls: workflows.calls.length };
};

interface StreamCounts {
  batches: number;
  records: number;
  badRecords: number;
  reported: number;
  batchesFailedWhole: number;
  /** Workflow calls and events beyond what the batch's good records make on their own: must stay 0. */
  extraWorkflowCalls: number;
  extraEvents: number;
}
const streamTally: StreamCounts = {
  batches: 0,
  records: 0,
  badRecords: 0,
  reported: 0,
  batchesFailedWhole: 0,
  extraWorkflowCalls: 0,
  extraEvents: 0,
};

/**
 * Every way the consumer's handling of `cases` breaks the property (empty: it holds). The batch is run twice:
 * whole, and with its good records alone (the reference); bad records must change nothing but the failures.
 */
const streamViolations = async (
  cases: readonly StreamCase[],
  wrap: (consume: Consume) => Consume = (consume) => consume,
  counts?: StreamCounts,
): Promise<string[]> => {
  const records = cases.map((c, i) => c.build(i));
  const good = (_: unknown, i: number): boolean => cases[i]?.good === true;
  const run = await consumerRun(records, wrap);
  const reference = await consumerRun(records.filter(good), (consume) => consume);
  const problems: string[] = [];
  if (reference.thrown !== undefined || (reference.failures ?? []).length > 0) {
    problems.push(
      `the good records alone were not all processed: ${String(reference.thrown ?? reference.failures)}`,
    );
  }
  // Not vacuous: every good record did something (a workflow call or an event of its own session).
  for (const [i, c] of cases.entries()) {
    if (c.good && !reference.effects.some((effect) => effect.includes(goodId(i)))) {
      problems.push(`good record ${c.name} did nothing`);
    }
  }
  const expected = records
    .filter((record, i) => !good(record, i))
    .map((r) => r.dynamodb?.SequenceNumber ?? '?')
    .sort();
  const reported = [...(run.failures ?? [])].sort();
  const mustThrow = cases.some((c) => c.unnamed) || expected.length === records.length;
  if (mustThrow && run.thrown === undefined) {
    problems.push(`a batch with unreportable failures answered ${JSON.stringify(run.failures)}`);
  } else if (!mustThrow && run.thrown !== undefined) {
    problems.push(`threw ${String(run.thrown)} though every failure could be reported apart`);
  } else if (!mustThrow && JSON.stringify(reported) !== JSON.stringify(expected)) {
    problems.push(`reported ${JSON.stringify(reported)} as failed, expected ${JSON.stringify(expected)}`);
  }
  // Bad records act on nothing: the batch did exactly what its good records do on their own.
  const extra = run.effects.filter((effect) => !reference.effects.includes(effect));
  const missing = reference.effects.filter((effect) => !run.effects.includes(effect));
  if (extra.length > 0) problems.push(`bad records acted: ${extra.map((e) => e.slice(0, 160)).join(' ; ')}`);
  if (missing.length > 0)
    problems.push(`good records did not act beside bad ones: ${missing.length} effects missing`);
  if (counts) {
    counts.batches++;
    counts.records += records.length;
    counts.badRecords += expected.length;
    counts.reported += reported.length;
    if (run.thrown !== undefined) counts.batchesFailedWhole++;
    counts.extraWorkflowCalls += Math.max(0, run.workflowCalls - reference.workflowCalls);
    counts.extraEvents += extra.filter((effect) => effect.includes('"detailType"')).length;
  }
  return problems;
};

/** What a parser may do with a document: answer a policy, or refuse it with PolicyDocumentError. */
const policyOutcome = (parse: () => unknown): 'parsed' | 'refused' => {
  try {
    parse();
    return 'parsed';
  } catch (error) {
    if (error instanceof PolicyDocumentError && error.problems.length > 0) return 'refused';
    throw new Error(
      `threw ${error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : String(error)}`,
    );
  }
};

const policyTally = { parsed: 0, refused: 0 };

// ---------------------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------------------

const started = Date.now();
const pollutionProbe = (): unknown => (Object.prototype as Record<string, unknown>).polluted;

afterAll(() => {
  const runs = [...tally.runs].map(([target, n]) => `${target}=${n}`).join(' ');
  const codes = [...tally.byCode]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `${code}:${n}`)
    .join(' ');
  const effects = tally.effectsOnRefusal;
  console.log(
    `fuzz seed=${SEED} runs[${runs}] served=${tally.served} 4xx[${codes}] refusals=${tally.refusals} ` +
      `on-refusal[writes=${effects.writes} sts=${effects.stsCalls} events=${effects.events} ` +
      `idempotency-records=${effects.idempotencyRecords}] ` +
      `stream[batches=${streamTally.batches} records=${streamTally.records} bad=${streamTally.badRecords} ` +
      `reported-failed=${streamTally.reported} whole-batch-failures=${streamTally.batchesFailedWhole} ` +
      `workflows-from-bad=${streamTally.extraWorkflowCalls} events-from-bad=${streamTally.extraEvents}] ` +
      `policy[parsed=${policyTally.parsed} refused=${policyTally.refused}] ` +
      `counterexamples=${tally.counterexamples} wall=${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
});

describe('vend API under generated hostile requests', () => {
  it('POST /v1/sessions: bad input is refused with its 4xx and writes, issues and publishes nothing', async () => {
    await runRoute('create', vendWorld, createRequests, servedCreate);
  });

  it('POST /v1/sessions/{id}/credentials: the same, and only the caller’s own active session is refreshed', async () => {
    await runRoute('refresh', vendWorld, refreshRequests, servedRefresh);
  });
});

describe('operator API under generated hostile requests', () => {
  it('GET /v1/sessions', async () => {
    await runRoute('list', operatorWorld, listRequests, servedList);
  });

  it('GET /v1/sessions/{id}', async () => {
    await runRoute('show', operatorWorld, showRequests, servedShow);
  });

  it('POST /v1/sessions/{id}/revoke', async () => {
    await runRoute('revoke', operatorWorld, revokeRequests, servedRevoke);
  });

  it('POST /v1/users/{user}/revoke', async () => {
    await runRoute('revoke-user', operatorWorld, revokeUserRequests, servedRevokeUser);
  });

  it('no request polluted Object.prototype', () => {
    expect(pollutionProbe()).toBeUndefined();
  });
});

describe('lifecycle consumer under generated malformed stream records', () => {
  it('reports every record it cannot tie to a session as failed and acts on none of them', async () => {
    await checkProperty(streamBatches, async (cases) => {
      const problems = await streamViolations(cases, undefined, streamTally);
      bump(tally.runs, 'stream');
      if (problems.length > 0) {
        tally.counterexamples++;
        throw new Error(`${problems.join('; ')}\n  records: ${cases.map((c) => c.name).join(' | ')}`);
      }
    });
    expect(streamTally.records - streamTally.badRecords).toBeGreaterThan(RUNS_PER_TARGET / 4);
    expect(pollutionProbe()).toBeUndefined();
  });
});

describe('access policy documents under generated hostile input', () => {
  const request = fc.record({
    principalArn: fc.oneof(fc.constant(ADMIN_ARN), hostileString(80)),
    accountId: fc.oneof(fc.constant('111122223333'), hostileString(12)),
    user: hostileString(40),
    profile: fc.oneof(fc.constantFrom('dev', 'prod', 'dev-x'), hostileString(40)),
    at: fc.date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    }),
  });

  it('parsePolicyDocument (YAML) and parsePolicyJson answer a policy or PolicyDocumentError, nothing else', async () => {
    await checkProperty(fc.tuple(policyTexts, request), async ([text, access]) => {
      bump(tally.runs, 'policy-text');
      for (const parse of [parsePolicyDocument, parsePolicyJson]) {
        const outcome = policyOutcome(() => evaluate(parse(text), access));
        if (outcome === 'parsed') policyTally.parsed++;
        else policyTally.refused++;
      }
      expect(pollutionProbe()).toBeUndefined();
    });
  });

  it('parsePolicy refuses the valid document with any one breaker, and reads it without', async () => {
    await checkProperty(
      fc.tuple(fc.option(policyBreakers, { freq: 10 }), request),
      async ([breaker, access]) => {
        bump(tally.runs, 'policy-value');
        const doc = clone();
        breaker?.[1](doc);
        const outcome = policyOutcome(() => evaluate(parsePolicy(doc), access));
        if (outcome === 'parsed') policyTally.parsed++;
        else policyTally.refused++;
        const expected = breaker === null ? 'parsed' : 'refused';
        if (outcome !== expected) {
          tally.counterexamples++;
          throw new Error(`${breaker?.[0] ?? 'the valid document'} was ${outcome}`);
        }
      },
    );
    expect(pollutionProbe()).toBeUndefined();
  });
});

describe('the property catches a handler that breaks it (broken on purpose)', () => {
  /** A wrapper that, like a careless refactor, writes a row before it answers a refused request. */
  const leaky =
    (world: World): ((api: Api) => Api) =>
    (api) =>
    async (event) => {
      const response = await api(event);
      if (response.statusCode >= 400) {
        await world.store.create(sessionFor('deadbeefdeadbeefdeadbeefdeadbeef', ALICE_ARN, new Date(NOW)));
      }
      return response;
    };

  it('reports the write on the first refused request, and shrinks it to one fatal mutation', async () => {
    const result = await fc.check(
      fc.asyncProperty(createRequests, async (request) => {
        const world = await vendWorld();
        const observed = await observe(world, request.event, leaky(world));
        const problems = violations(request, observed, servedCreate);
        if (problems.length > 0) throw new Error(problems.join('; '));
      }),
      { seed: SEED, numRuns: RUNS_PER_TARGET },
    );
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toContain('a refused request wrote (1)');
    const [shrunk] = result.counterexample ?? [];
    expect(shrunk?.refusalCodes.length).toBeGreaterThan(0);
  });

  it('the stream property catches a consumer that swallows the records it could not read', async () => {
    /** Like the Powertools gap it replays: failures are dropped and the batch is answered as all done. */
    const swallowing =
      (consume: Consume): Consume =>
      async (event, context) => {
        await consume(event, context).catch(() => undefined);
        return { batchItemFailures: [] };
      };
    const result = await fc.check(
      fc.asyncProperty(streamBatches, async (cases) => {
        const problems = await streamViolations(cases, swallowing);
        if (problems.length > 0) throw new Error(problems.join('; '));
      }),
      { seed: SEED, numRuns: RUNS_PER_TARGET },
    );
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/answered \[\]|reported \[\] as failed/);
  });
});
