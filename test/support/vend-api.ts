/** Shared set-up of the vend unit tests: fixtures from events/vend, fakes for every port. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { ManualClock } from '../../local/manual-clock.js';
import type { AccessPolicy } from '../../src/domain/access-policy.js';
import { parsePolicy } from '../../src/domain/access-policy-document.js';
import type { HttpApiEvent } from '../../src/handlers/http/event.js';
import type { ApiTelemetry } from '../../src/handlers/http/telemetry.js';
import { createVendApi, type VendApiDeps } from '../../src/handlers/http/vend-api.js';
import {
  type AccessPolicySource,
  type CredentialIssuer,
  type CredentialRequest,
  type IdGenerator,
  type IssuedCredentials,
  PolicyUnavailableError,
} from '../../src/ports.js';
import { parseProfiles } from '../../src/usecases/vend-profiles.js';
import type { VendMetric } from '../../src/usecases/vend-telemetry.js';
import { InMemorySessionStore } from './in-memory-session-store.js';
import { RecordingPublisher } from './recording-publisher.js';

export const fixture = (
  name: 'create' | 'refresh' | 'bad-body' | 'missing-auth' | 'create-idempotent',
): HttpApiEvent =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`../../events/vend/${name}.json`, import.meta.url)), 'utf8'));

/** The caller of every fixture (an IAM Identity Center user) and the session name parseCallerArn gives it. */
export const FIXTURE_USER = 'alice@example.com';
export const OTHER_ARN =
  'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/bob@example.com';

export const withBody = (
  event: HttpApiEvent,
  body: string | null,
  isBase64Encoded = false,
): HttpApiEvent => ({
  ...event,
  body,
  isBase64Encoded,
});

export const withCaller = (event: HttpApiEvent, userArn: string): HttpApiEvent => ({
  ...event,
  requestContext: {
    ...event.requestContext,
    authorizer: { iam: { ...event.requestContext?.authorizer?.iam, userArn } },
  },
});

export const refreshOf = (sessionId: string, base: HttpApiEvent = fixture('refresh')): HttpApiEvent => ({
  ...base,
  rawPath: `/v1/sessions/${sessionId}/credentials`,
  pathParameters: { sessionId },
});

export const PROFILES = parseProfiles({
  dev: {
    roleArn: 'arn:aws:iam::444455556666:role/sentinel/dev-access',
    maxDurationSeconds: 3600,
    idleTimeoutSeconds: 7200,
    maxLifetimeSeconds: 28_800,
  },
  prod: {
    roleArn: 'arn:aws:iam::777788889999:role/prod-readonly',
    maxDurationSeconds: 900,
    idleTimeoutSeconds: 1800,
    maxLifetimeSeconds: 3600,
  },
});

/** Secret parts are distinctive so a test can search logs and events for them. */
export const SECRET_MARK = 'SeCrEtDoNoTlOg';
export const TOKEN_MARK = 'ToKeNdOnOtLoG';

export class FakeIssuer implements CredentialIssuer {
  readonly requests: CredentialRequest[] = [];
  /** The abort signal each call was given (undefined when none). */
  readonly signals: (AbortSignal | undefined)[] = [];
  #failures: unknown[] = [];
  /** Added to every Expiration, as STS latency or a clock ahead of ours would. */
  expirationSkewSeconds = 0;
  constructor(readonly clock: ManualClock) {}
  failNext(error: unknown): this {
    this.#failures.push(error);
    return this;
  }
  async issue(
    request: CredentialRequest,
    options: { readonly abortSignal?: AbortSignal } = {},
  ): Promise<IssuedCredentials> {
    this.signals.push(options.abortSignal);
    if (this.#failures.length > 0) throw this.#failures.shift();
    this.requests.push(request);
    const n = this.requests.length;
    const seconds = request.durationSeconds + this.expirationSkewSeconds;
    return {
      AccessKeyId: `ASIAFAKETEST${String(n).padStart(8, '0')}`,
      SecretAccessKey: `${SECRET_MARK}-${n}`,
      Token: `${TOKEN_MARK}-${n}`,
      Expiration: new Date(this.clock.now().getTime() + seconds * 1000).toISOString(),
    };
  }
}

/**
 * Ids that tell sessions apart wherever they are shortened: the counter leads, so the 8-character prefix in
 * a RoleSessionName (or a log excerpt) differs from one session to the next.
 */
export class SequentialIds implements IdGenerator {
  #n = 0;
  sessionId(): string {
    this.#n += 1;
    return this.#n.toString(16).padStart(8, '0').padEnd(32, 'a');
  }
}

export class RecordingTelemetry<M extends string = VendMetric> implements ApiTelemetry<M> {
  readonly counts = new Map<M, number>();
  readonly lines: { level: string; message: string; attributes?: unknown }[] = [];
  readonly keys: Record<string, string> = {};
  correlate(keys: Readonly<Record<string, string>>): void {
    Object.assign(this.keys, keys);
  }
  session(sessionId: string): void {
    this.keys.sessionId = sessionId;
  }
  count(metric: M, value = 1): void {
    this.counts.set(metric, (this.counts.get(metric) ?? 0) + value);
  }
  info(message: string, attributes?: unknown): void {
    this.lines.push({ level: 'info', message, attributes });
  }
  warn(message: string, attributes?: unknown): void {
    this.lines.push({ level: 'warn', message, attributes });
  }
  error(message: string, attributes?: unknown): void {
    this.lines.push({ level: 'error', message, attributes });
  }
}

export const NOW = '2026-01-15T09:30:00.000Z';

/** A policy allowing every profile to everyone: the tests that are not about the policy run under it. */
export const ALLOW_ALL_POLICY: AccessPolicy = parsePolicy({
  version: 'test-1',
  admins: [],
  rules: [{ name: 'allow-all', effect: 'allow' }],
});

/** A policy source that always answers `policy` (or refuses, like an unreadable parameter). */
export class FixedPolicySource implements AccessPolicySource {
  constructor(public policy: AccessPolicy | 'unavailable' = ALLOW_ALL_POLICY) {}
  async current(): Promise<AccessPolicy> {
    if (this.policy === 'unavailable')
      throw new PolicyUnavailableError('access policy test could not be read');
    return this.policy;
  }
}

export const setup = (overrides: Partial<VendApiDeps> = {}) => {
  const clock = new ManualClock(NOW);
  const store = new InMemorySessionStore();
  const publisher = new RecordingPublisher();
  const issuer = new FakeIssuer(clock);
  const telemetry = new RecordingTelemetry();
  const deps: VendApiDeps = {
    store,
    issuer,
    publisher,
    clock,
    ids: new SequentialIds(),
    profiles: PROFILES,
    storeFailure: 'deny',
    telemetry,
    policy: new FixedPolicySource(),
    ...overrides,
  };
  return { clock, store, publisher, issuer, telemetry, deps, api: createVendApi(deps) };
};

export const bodyOf = (response: { body: string }): Record<string, unknown> => JSON.parse(response.body);

/** A Lambda context as the runtime passes it (Powertools reads the remaining time from it). */
export const lambdaContext = (awsRequestId: string): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'sentinel-vend',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:sentinel-vend',
  memoryLimitInMB: '512',
  awsRequestId,
  logGroupName: '/aws/lambda/sentinel-vend',
  logStreamName: '2026/01/15/[$LATEST]0123456789abcdef',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});
