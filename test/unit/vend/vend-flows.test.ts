/** Happy paths and the less common outcomes of create and refresh, through the API with in-memory ports. */
import { describe, expect, it } from 'vitest';
import { parseCallerArn } from '../../../src/domain/identity.js';
import { newSession, type Session } from '../../../src/domain/session.js';
import { IssuerFailedError } from '../../../src/usecases/vend-errors.js';
import { bodyOf, FIXTURE_USER, fixture, NOW, PROFILES, refreshOf, setup, withBody } from './helpers.js';

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
        roleSessionName: `sentinel-${FIXTURE_USER}-${String(body.sessionId).slice(0, 8)}`,
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

  it('leaves the row (it expires on schedule) but announces nothing when STS fails', async () => {
    const { api, store, issuer, publisher, telemetry } = setup();
    issuer.failNext(new IssuerFailedError('AssumeRole failed: InternalError'));

    const response = await api(fixture('create'));

    expect(response.statusCode).toBe(502);
    expect(store.all().map((s) => s.status)).toEqual(['active']);
    expect(publisher.events).toEqual([]);
    expect(telemetry.counts.get('IssuerFailure')).toBe(1);
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
  it('touches once, extends by the shortest idle window (never backwards) and announces SessionTouched', async () => {
    // Prepare: created at 09:00 with expiry 11:00; now 09:30, so now + 1800 s = 10:00 would shorten it.
    const { api, store, issuer, publisher, clock } = setup();
    store.seed(created('2026-01-15T09:00:00.000Z'));

    // Act
    const first = await api(refreshOf('c'.repeat(32)));
    clock.set('2026-01-15T10:45:00.000Z');
    const second = await api(refreshOf('c'.repeat(32)));

    // Assess
    expect(first.statusCode).toBe(200);
    expect(bodyOf(first).expiresAt).toBe('2026-01-15T11:00:00.000Z');
    expect(bodyOf(second).expiresAt).toBe('2026-01-15T11:15:00.000Z');
    expect(store.all()[0]).toMatchObject({ requestCount: 3, lastAccessAt: '2026-01-15T10:45:00.000Z' });
    // 30 minutes left at the second refresh: the credential is cut to fit.
    expect(issuer.requests.map((r) => r.durationSeconds)).toEqual([3600, 1800]);
    expect(issuer.requests[0]?.sourceIdentity).toBe('sentinel=alice@example.com=direct=seed');
    expect(
      publisher.events.map((e) => [e.detailType, (e.detail as { requestCount?: number }).requestCount]),
    ).toEqual([
      ['SessionTouched', 2],
      ['SessionTouched', 3],
    ]);
  });

  it('expires lazily a session found active past its expiry, and emits one SessionExpired (reason lazy)', async () => {
    const { api, store, issuer, publisher, clock } = setup();
    store.seed(created('2026-01-15T06:00:00.000Z'));
    clock.set('2026-01-15T08:00:01.000Z');

    const first = await api(refreshOf('c'.repeat(32)));
    const second = await api(refreshOf('c'.repeat(32)));

    expect([first.statusCode, bodyOf(first).code]).toEqual([410, 'SessionExpired']);
    expect([second.statusCode, bodyOf(second).code]).toEqual([410, 'SessionExpired']);
    expect(store.all()[0]).toMatchObject({ status: 'expired', expiredReason: 'lazy' });
    expect(issuer.requests).toEqual([]);
    expect(publisher.events.map((e) => [e.detailType, (e.detail as { reason?: string }).reason])).toEqual([
      ['SessionExpired', 'lazy'],
    ]);
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
    expect(issuer.requests.at(-1)?.durationSeconds).toBe(1800);
    expect(store.all()[0]?.requestCount).toBe(1);
    expect(publisher.events.map((e) => e.detailType)).toEqual(['SessionCreated']);
    expect(telemetry.counts.get('StoreFailureAllowed')).toBe(1);
  });

  it('with SESSION_STORE_FAILURE=allow still denies a session this container never saw', async () => {
    const { api, store, issuer, telemetry } = setup({ storeFailure: 'allow' });
    store.failNext(new Error('ECONNRESET'), 'touch');

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
    store.failNext(new Error('ECONNRESET'), 'touch');

    const response = await api(refreshOf(sessionId));

    expect(response.statusCode).toBe(503);
  });

  it('refuses a session whose profile left the allowlist, without issuing', async () => {
    const { api, store, issuer } = setup();
    store.seed(created('2026-01-15T09:00:00.000Z', { profile: 'retired' }));

    const response = await api(refreshOf('c'.repeat(32)));

    expect([response.statusCode, bodyOf(response).code]).toEqual([403, 'ProfileNotAllowed']);
    expect(issuer.requests).toEqual([]);
  });
});
