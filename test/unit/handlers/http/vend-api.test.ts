/** Happy paths and the less common outcomes of create and refresh, through the API with in-memory ports. */
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../../src/domain/access-policy-document.js';
import { parseCallerArn } from '../../../../src/domain/identity.js';
import { newSession, type Session } from '../../../../src/domain/session.js';
import { IssuerFailedError, IssuerThrottledError } from '../../../../src/ports.js';
import { parseProfiles } from '../../../../src/usecases/vend-profiles.js';
import {
  bodyOf,
  FIXTURE_USER,
  FixedPolicySource,
  fixture,
  NOW,
  PROFILES,
  refreshOf,
  SECRET_MARK,
  setup,
  withBody,
  withCaller,
} from '../../../support/vend-api.js';

const CALLER = parseCallerArn(fixture('create').requestContext?.authorizer?.iam?.userArn);
const dev = PROFILES.get('dev');
if (!dev) throw new Error('fixture profile missing');

const created = (at: string, overrides: Partial<Session> = {}): Session => ({
  ...newSession({
    sessionId: 'c'.repeat(32),
    caller: CALLER,
    profile: 'dev',
    roleArn: dev.roleArn,
    sourceIdentity: 'sentinel=alice@example.com=direct=seed',
    policy: dev.policy,
    now: new Date(at),
  }),
  ...overrides,
});

describe('create', () => {
  it('records an active session, assumes the profile role with the session tag and announces SessionCreated', async () => {
    // Prepare
    const { api, store, issuer, publisher } = setup();

    // Act
    const response = await api(fixture('create'));

    // Assess
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = bodyOf(response);
    expect(Object.keys(body).sort()).toEqual(['credentials', 'expiresAt', 'sessionId']);
    expect(Object.keys(body.credentials as object).sort()).toEqual([
      'AccessKeyId',
      'Expiration',
      'SecretAccessKey',
      'Token',
    ]);
    const [row] = store.all();
    expect(store.all()).toHaveLength(1);
    expect(row).toMatchObject({
      sessionId: body.sessionId,
      user: FIXTURE_USER,
      principalArn: CALLER.principalArn,
      profile: 'dev',
      roleArn: dev.roleArn,
      status: 'active',
      createdAt: NOW,
      expiresAt: '2026-01-15T11:30:00.000Z', // idle window 7200 s
      maxExpiresAt: '2026-01-15T17:30:00.000Z', // max lifetime 8 h
      requestCount: 1,
    });
    expect(body.expiresAt).toBe(row?.expiresAt);
    expect(issuer.requests).toEqual([
      {
        roleArn: dev.roleArn,
        roleSessionName: `s-${String(body.sessionId)}-${FIXTURE_USER}`,
        sourceIdentity: row?.sourceIdentity,
        sessionId: body.sessionId,
        durationSeconds: 3600,
      },
    ]);
    expect(row?.sourceIdentity).toMatch(/^sentinel=alice@example\.com=direct=EXAMPLEreqId0/);
    expect(publisher.events.map((e) => e.detailType)).toEqual(['SessionCreated']);
    expect(publisher.events[0]?.detail).toMatchObject({
      sessionId: body.sessionId,
      user: FIXTURE_USER,
      profile: 'dev',
    });
  });

  it('issues the requested duration when it is within the profile maximum', async () => {
    const { api, issuer } = setup();

    const response = await api(
      withBody(fixture('create'), JSON.stringify({ profile: 'dev', durationSeconds: 1200 })),
    );

    expect(response.statusCode).toBe(201);
    expect(issuer.requests.map((r) => r.durationSeconds)).toEqual([1200]);
    expect((bodyOf(response).credentials as { Expiration: string }).Expiration).toBe(
      '2026-01-15T09:50:00.000Z',
    );
  });

  it.each([
    ['fails', new IssuerFailedError('AssumeRole failed: InternalError'), 502, 'CredentialIssuerFailed'],
    [
      'throttles',
      new IssuerThrottledError('AssumeRole failed: Throttling'),
      503,
      'CredentialIssuerThrottled',
    ],
  ] as const)(
    'force-expires the row and announces nothing when STS %s',
    async (_label, error, status, code) => {
      // Prepare
      const { api, store, issuer, publisher, telemetry } = setup();
      issuer.failNext(error);

      // Act
      const response = await api(fixture('create'));

      // Assess: no active session is left that nobody holds credentials for.
      expect([response.statusCode, bodyOf(response).code]).toEqual([status, code]);
      expect(store.all().map((s) => [s.status, s.expiredReason])).toEqual([['expired', 'forced']]);
      expect(publisher.events).toEqual([]);
      expect(telemetry.counts.get('IssuerFailure')).toBe(1);
      expect(telemetry.counts.get('SessionForceExpired')).toBe(1);
    },
  );

  it('still answers 502 when the force-expiry cannot be written, and counts it', async () => {
    const { api, store, issuer, publisher, telemetry } = setup();
    issuer.failNext(new IssuerFailedError('AssumeRole failed: InternalError'));
    store.failNext(new Error('ECONNRESET'), 'expire');

    const response = await api(fixture('create'));

    expect(response.statusCode).toBe(502);
    expect(store.all().map((s) => s.status)).toEqual(['active']);
    expect(publisher.events).toEqual([]);
    expect(telemetry.counts.get('SessionForceExpireFailed')).toBe(1);
  });

  it('abandons AssumeRole when the put fails (deny) and never returns credentials', async () => {
    const { api, store, issuer, publisher, telemetry } = setup();
    store.failNext(new Error('ECONNRESET'), 'create');

    const response = await api(fixture('create'));

    expect([response.statusCode, bodyOf(response).code]).toEqual([503, 'SessionStoreUnavailable']);
    expect(response.body).not.toContain('ASIA');
    expect(issuer.signals.map((signal) => signal?.aborted)).toEqual([true]);
    expect(store.all()).toEqual([]);
    expect(publisher.events).toEqual([]);
    // The fake issuer answered before the abort: those credentials are discarded, and said so.
    expect(telemetry.counts.get('CredentialsDiscarded')).toBe(1);
  });

  it('refuses (502) credentials that would outlive the session, and force-expires the row', async () => {
    // Prepare: an issuer whose Expiration lands after the session's end (an issuer bug or a skewed clock).
    const { api, store, issuer, publisher, telemetry } = setup();
    issuer.expirationSkewSeconds = 7200;

    // Act
    const response = await api(fixture('create'));

    // Assess
    expect([response.statusCode, bodyOf(response).code]).toEqual([502, 'CredentialIssuerFailed']);
    expect(response.body).not.toContain(SECRET_MARK);
    expect(store.all().map((s) => [s.status, s.expiredReason])).toEqual([['expired', 'forced']]);
    expect(publisher.events).toEqual([]);
    expect(telemetry.counts.get('CredentialOutlivesSession')).toBe(1);
  });

  it('expires sessions on whole seconds, rounded down, whatever the milliseconds of the clock', async () => {
    const { api, store, clock } = setup();
    clock.set('2026-01-15T09:30:00.750Z');

    const response = await api(fixture('create'));

    expect(response.statusCode).toBe(201);
    expect(bodyOf(response).expiresAt).toBe('2026-01-15T11:30:00.000Z');
    expect(store.all()[0]).toMatchObject({
      createdAt: '2026-01-15T09:30:00.750Z',
      expiresAt: '2026-01-15T11:30:00.000Z',
      maxExpiresAt: '2026-01-15T17:30:00.000Z',
    });
  });

  it('still vends when the bus refuses the event after retries, and counts it', async () => {
    const { api, publisher, telemetry } = setup();
    publisher.failNext('InternalFailure');

    const response = await api(fixture('create'));

    expect(response.statusCode).toBe(201);
    expect(publisher.failedEvents.map((e) => e.detailType)).toEqual(['SessionCreated']);
    expect(telemetry.counts.get('EventPublishFailed')).toBe(1);
  });

  it('still vends when PutEvents throws, and counts it', async () => {
    const { api, publisher, telemetry } = setup();
    publisher.throwNext(new Error('socket hang up'));

    const response = await api(fixture('create'));

    expect(response.statusCode).toBe(201);
    expect(telemetry.counts.get('EventPublishFailed')).toBe(1);
  });

  it('with SESSION_STORE_FAILURE=allow vends an untracked session: no row, no event, logged and counted', async () => {
    const { api, store, publisher, telemetry } = setup({ storeFailure: 'allow' });
    store.failNext(new Error('ECONNRESET'), 'create');

    const response = await api(fixture('create'));

    expect(response.statusCode).toBe(201);
    expect(store.all()).toEqual([]);
    expect(publisher.events).toEqual([]);
    expect(telemetry.counts.get('StoreFailureAllowed')).toBe(1);
    expect(
      telemetry.lines.some((l) => l.level === 'warn' && l.message.includes('SESSION_STORE_FAILURE=allow')),
    ).toBe(true);
  });
});

describe('refresh', () => {
  it("touches once, extends by its own profile's idle window and announces SessionTouched", async () => {
    // Prepare: dev (idle 2 h) created at 09:00 with expiry 11:00; now 09:30.
    const { api, store, issuer, publisher, clock } = setup();
    store.seed(created('2026-01-15T09:00:00.000Z'));

    // Act
    const first = await api(refreshOf('c'.repeat(32)));
    clock.set('2026-01-15T10:45:00.000Z');
    const second = await api(refreshOf('c'.repeat(32)));

    // Assess
    expect(first.statusCode).toBe(200);
    expect(bodyOf(first).expiresAt).toBe('2026-01-15T11:30:00.000Z');
    expect(bodyOf(second).expiresAt).toBe('2026-01-15T12:45:00.000Z');
    expect(store.all()[0]).toMatchObject({ requestCount: 3, lastAccessAt: '2026-01-15T10:45:00.000Z' });
    expect(issuer.requests.map((r) => r.durationSeconds)).toEqual([3600, 3600]);
    expect(issuer.requests.map((r) => r.roleArn)).toEqual([dev.roleArn, dev.roleArn]);
    expect(issuer.requests[0]?.sourceIdentity).toBe('sentinel=alice@example.com=direct=seed');
    expect(
      publisher.events.map((e) => [e.detailType, (e.detail as { requestCount?: number }).requestCount]),
    ).toEqual([
      ['SessionTouched', 2],
      ['SessionTouched', 3],
    ]);
  });

  it('extends each session by its own profile: a prod session by 30 min while dev sessions get 2 h', async () => {
    // Prepare: prod's idle window is 1800 s; it expires 09:45 and may live until 10:15.
    const { api, store } = setup();
    const prod = PROFILES.get('prod');
    if (!prod) throw new Error('fixture profiles lack prod');
    store.seed(
      created('2026-01-15T09:15:00.000Z', {
        profile: 'prod',
        roleArn: prod.roleArn,
        expiresAt: '2026-01-15T09:45:00.000Z',
        maxExpiresAt: '2026-01-15T10:15:00.000Z',
      }),
    );

    // Act: the profile named, as the CLI sends it (one conditional write).
    const named = await api(withBody(refreshOf('c'.repeat(32)), '{"profile":"prod"}'));

    // Assess
    expect(named.statusCode).toBe(200);
    expect(bodyOf(named).expiresAt).toBe('2026-01-15T10:00:00.000Z');
    expect(store.all()[0]?.expiresAt).toBe('2026-01-15T10:00:00.000Z');
  });

  it('refuses (409 ProfileMismatch) a refresh naming another profile than its session, writing nothing', async () => {
    const { api, store, issuer, publisher } = setup();
    store.seed(created('2026-01-15T09:00:00.000Z'));
    const before = structuredClone(store.all());

    const response = await api(withBody(refreshOf('c'.repeat(32)), '{"profile":"prod"}'));

    expect([response.statusCode, bodyOf(response).code]).toEqual([409, 'ProfileMismatch']);
    expect(store.all()).toEqual(before);
    expect(issuer.requests).toEqual([]);
    expect(publisher.events).toEqual([]);
  });

  it('extends on whole seconds, rounded down', async () => {
    const { api, store, clock } = setup();
    store.seed(created('2026-01-15T09:00:00.000Z'));
    clock.set('2026-01-15T10:45:00.999Z');

    const response = await api(refreshOf('c'.repeat(32)));

    expect(bodyOf(response).expiresAt).toBe('2026-01-15T12:45:00.000Z');
    expect(store.all()[0]?.expiresAt).toBe('2026-01-15T12:45:00.000Z');
  });

  it('keeps the safety margin: a credential ends 30 s or more before its session', async () => {
    // Prepare: created 7h40m ago with an 8h cap: 20 minutes left, the touch cannot extend past the cap.
    const { api, store, issuer } = setup();
    store.seed(created('2026-01-15T01:50:00.000Z', { expiresAt: '2026-01-15T09:50:00.000Z' }));

    // Act
    const response = await api(refreshOf('c'.repeat(32)));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(issuer.requests.map((r) => r.durationSeconds)).toEqual([1170]);
    const { expiresAt, credentials } = bodyOf(response) as {
      expiresAt: string;
      credentials: { Expiration: string };
    };
    expect(new Date(expiresAt).getTime() - new Date(credentials.Expiration).getTime()).toBe(30_000);
  });

  it('refuses (502) refreshed credentials that would outlive the session', async () => {
    // Prepare: 8 h cap reached at 10:00; at 09:30, 30 min left, DurationSeconds 1770; + 31 s ends after it.
    const { api, store, issuer, telemetry } = setup();
    store.seed(created('2026-01-15T02:00:00.000Z', { expiresAt: '2026-01-15T10:00:00.000Z' }));
    issuer.expirationSkewSeconds = 31;

    const response = await api(refreshOf('c'.repeat(32)));

    expect([response.statusCode, bodyOf(response).code]).toEqual([502, 'CredentialIssuerFailed']);
    expect(response.body).not.toContain(SECRET_MARK);
    expect(telemetry.counts.get('CredentialOutlivesSession')).toBe(1);
  });

  it('expires lazily a session found active past its expiry, and leaves the announcement to the stream', async () => {
    const { api, store, issuer, publisher, clock } = setup();
    store.seed(created('2026-01-15T06:00:00.000Z'));
    clock.set('2026-01-15T08:00:01.000Z');

    const first = await api(refreshOf('c'.repeat(32)));
    const second = await api(refreshOf('c'.repeat(32)));

    expect([first.statusCode, bodyOf(first).code]).toEqual([410, 'SessionExpired']);
    expect([second.statusCode, bodyOf(second).code]).toEqual([410, 'SessionExpired']);
    expect(store.all()[0]).toMatchObject({ status: 'expired', expiredReason: 'lazy' });
    expect(issuer.requests).toEqual([]);
    // The lifecycle consumer announces SessionExpired from the active → expired stream record, exactly once.
    expect(publisher.ofType('SessionExpired')).toEqual([]);
    expect(publisher.events).toEqual([]);
  });

  it('with SESSION_STORE_FAILURE=allow serves a session seen here, without extending it, and counts it', async () => {
    const { api, store, issuer, publisher, telemetry, clock } = setup({ storeFailure: 'allow' });
    const createdResponse = await api(fixture('create'));
    const { sessionId, expiresAt } = bodyOf(createdResponse) as { sessionId: string; expiresAt: string };
    clock.advanceSeconds(5400); // 1h30 later: 30 minutes left
    store.failNext(new Error('ECONNRESET'), 'touch');

    const response = await api(refreshOf(sessionId));

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response).expiresAt).toBe(expiresAt);
    expect(issuer.requests.at(-1)?.durationSeconds).toBe(1770);
    expect(store.all()[0]?.requestCount).toBe(1);
    expect(publisher.events.map((e) => e.detailType)).toEqual(['SessionCreated']);
    expect(telemetry.counts.get('StoreFailureAllowed')).toBe(1);
  });

  it('with SESSION_STORE_FAILURE=allow still denies a session this container never saw', async () => {
    const { api, store, issuer, telemetry } = setup({ storeFailure: 'allow' });
    store.failNext(new Error('ECONNRESET'));

    const response = await api(refreshOf('d'.repeat(32)));

    expect([response.statusCode, bodyOf(response).code]).toEqual([503, 'SessionStoreUnavailable']);
    expect(issuer.requests).toEqual([]);
    expect(telemetry.counts.get('StoreFailureDenied')).toBe(1);
  });

  it('with SESSION_STORE_FAILURE=allow denies a session it saw revoked', async () => {
    const { api, store, clock } = setup({ storeFailure: 'allow' });
    const { sessionId } = bodyOf(await api(fixture('create'))) as { sessionId: string };
    await store.revoke(sessionId, { by: 'security', reason: 'test', now: clock.now() });
    expect(bodyOf(await api(refreshOf(sessionId))).code).toBe('SessionRevoked');
    store.failNext(new Error('ECONNRESET'));

    const response = await api(refreshOf(sessionId));

    expect(response.statusCode).toBe(503);
  });

  it.each([
    ['left the allowlist', { profile: 'retired' }],
    ['now maps to another role', { roleArn: 'arn:aws:iam::444455556666:role/sentinel/dev-access-old' }],
  ])(
    'refuses (403 ProfileChanged) a session whose profile %s, before touching it',
    async (_label, overrides) => {
      // Prepare
      const { api, store, issuer, publisher, telemetry } = setup();
      store.seed(created('2026-01-15T09:00:00.000Z', overrides));
      const before = structuredClone(store.all());

      // Act
      const response = await api(refreshOf('c'.repeat(32)));

      // Assess: not counted, not extended, nothing issued or announced.
      expect([response.statusCode, bodyOf(response).code]).toEqual([403, 'ProfileChanged']);
      expect(store.all()).toEqual(before);
      expect(issuer.requests).toEqual([]);
      expect(publisher.events).toEqual([]);
      expect(telemetry.counts.get('ProfileChanged')).toBe(1);
    },
  );

  it('refuses a session seen here once its profile maps to another role (a new deployment), before touching', async () => {
    // Prepare: created under one allowlist; the next container runs with dev mapped to another role.
    const first = setup();
    const { sessionId } = bodyOf(await first.api(fixture('create'))) as { sessionId: string };
    const changed = parseProfiles({
      dev: {
        roleArn: 'arn:aws:iam::444455556666:role/sentinel/dev-access-v2',
        maxDurationSeconds: 3600,
        idleTimeoutSeconds: 7200,
        maxLifetimeSeconds: 28_800,
      },
    });
    const second = setup({ store: first.store, profiles: changed });
    const before = structuredClone(first.store.all());

    // Act
    const response = await second.api(refreshOf(sessionId));

    // Assess
    expect([response.statusCode, bodyOf(response).code]).toEqual([403, 'ProfileChanged']);
    expect(first.store.all()).toEqual(before);
    expect(second.issuer.requests).toEqual([]);
  });

  it.each([
    [
      'an Identity Center user alice',
      'arn:aws:iam::111122223333:user/alice',
      'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice',
    ],
    [
      'the IAM user alice',
      'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice',
      'arn:aws:iam::111122223333:user/alice',
    ],
  ])(
    'refuses (403 NotOwner) %s refreshing a session of a same-named principal',
    async (_label, owner, other) => {
      // Prepare: both callers parse to the user name "alice"; only the principal ARN tells them apart.
      const { api, store, issuer, publisher } = setup();
      const ownerCaller = parseCallerArn(owner);
      const otherCaller = parseCallerArn(other);
      expect(otherCaller.user).toBe(ownerCaller.user);
      const { sessionId } = bodyOf(await api(withCaller(fixture('create'), owner))) as { sessionId: string };
      const seededId = 'e'.repeat(32);
      store.seed(
        created('2026-01-15T09:00:00.000Z', { sessionId: seededId, user: 'alice', principalArn: owner }),
      );
      const before = structuredClone(store.all());

      // Act: one session this container saw at create, one it only finds in the table.
      const seenHere = await api(withCaller(refreshOf(sessionId), other));
      const readFromTable = await api(withCaller(refreshOf(seededId), other));

      // Assess
      expect([seenHere.statusCode, bodyOf(seenHere).code]).toEqual([403, 'NotOwner']);
      expect([readFromTable.statusCode, bodyOf(readFromTable).code]).toEqual([403, 'NotOwner']);
      expect(store.all()).toEqual(before);
      expect(issuer.requests).toHaveLength(1); // the create's
      expect(publisher.events.map((e) => e.detailType)).toEqual(['SessionCreated']);
    },
  );
});

describe('the shortest idle window PROFILES accepts', () => {
  it('serves a create even at the worst millisecond (931 s: 900 s credential + 30 s margin + rounding)', async () => {
    // Prepare
    const profiles = parseProfiles({
      short: {
        roleArn: 'arn:aws:iam::444455556666:role/short',
        maxDurationSeconds: 3600,
        idleTimeoutSeconds: 931,
        maxLifetimeSeconds: 931,
      },
    });
    const { api, clock, issuer } = setup({ profiles });
    clock.set('2026-01-15T09:30:00.999Z');

    // Act
    const response = await api(withBody(fixture('create'), JSON.stringify({ profile: 'short' })));

    // Assess
    expect(response.statusCode).toBe(201);
    expect(issuer.requests.map((r) => r.durationSeconds)).toEqual([900]);
  });
});

describe('refresh while the store is down (SESSION_STORE_FAILURE=allow) never skips the access policy', () => {
  const denyDev = parsePolicy({
    version: 2,
    admins: [],
    rules: [{ name: 'no-dev', effect: 'deny', profiles: ['dev'], reason: 'dev is closed' }],
  });

  it('a session seen here, refreshed without naming its profile, is refused once the policy denies it', async () => {
    const policy = new FixedPolicySource();
    const { api, store, issuer, publisher } = setup({ storeFailure: 'allow', policy });
    const { sessionId } = bodyOf(await api(fixture('create'))) as { sessionId: string };
    policy.policy = denyDev;
    store.failNext(new Error('ECONNRESET'));

    const response = await api(refreshOf(sessionId));

    expect([response.statusCode, bodyOf(response).code]).toEqual([403, 'AccessDenied']);
    expect(issuer.requests).toHaveLength(1); // the create's
    expect(publisher.ofType('VendDenied')).toHaveLength(1);
  });

  it('naming another profile than the seen session’s is not served from the last known state', async () => {
    const { api, store, issuer } = setup({ storeFailure: 'allow' });
    const { sessionId } = bodyOf(await api(fixture('create'))) as { sessionId: string };
    store.failNext(new Error('ECONNRESET'), 'touch');

    const response = await api(withBody(refreshOf(sessionId), '{"profile":"prod"}'));

    expect([response.statusCode, bodyOf(response).code]).toEqual([503, 'SessionStoreUnavailable']);
    expect(issuer.requests).toHaveLength(1);
  });
});
