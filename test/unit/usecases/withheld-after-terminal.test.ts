/**
 * No credential is issued (handed to the caller in a response) after its session's terminal write: a
 * revocation or expiry that lands while STS answers makes create and refresh withhold what STS minted.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/manual-clock.js';
import { parseCallerArn } from '../../../src/domain/identity.js';
import { newSession, type Session } from '../../../src/domain/session.js';
import type { CredentialIssuer, CredentialRequest } from '../../../src/ports.js';
import { createSession } from '../../../src/usecases/create-session.js';
import { refreshSession } from '../../../src/usecases/refresh-session.js';
import type { StoreFailureMode } from '../../../src/usecases/store-failure.js';
import { InMemorySessionStore } from '../../support/in-memory-session-store.js';
import { RecordingPublisher } from '../../support/recording-publisher.js';
import {
  ALLOW_ALL_POLICY,
  FakeIssuer,
  fixture,
  NOW,
  PROFILES,
  RecordingTelemetry,
  SequentialIds,
} from '../../support/vend-api.js';

const CALLER = parseCallerArn(fixture('create').requestContext?.authorizer?.iam?.userArn);
const dev = PROFILES.get('dev');
if (!dev) throw new Error('fixture profile missing');
const SESSION_ID = 'c'.repeat(32);

const activeSession = (): Session =>
  newSession({
    sessionId: SESSION_ID,
    caller: CALLER,
    profile: 'dev',
    roleArn: dev.roleArn,
    sourceIdentity: 'sentinel=alice@example.com=direct=seed',
    policy: dev.policy,
    now: new Date('2026-01-15T09:00:00.000Z'),
  });

/** STS that, while it answers, lets `meanwhile` write to the table: the race the re-read closes. */
class IssuerWithAWindow implements CredentialIssuer {
  readonly minted: string[] = [];
  readonly #inner: FakeIssuer;
  constructor(
    clock: ManualClock,
    private readonly meanwhile: (request: CredentialRequest) => Promise<unknown> = async () => undefined,
  ) {
    this.#inner = new FakeIssuer(clock);
  }
  async issue(request: CredentialRequest) {
    const credentials = await this.#inner.issue(request);
    this.minted.push(credentials.AccessKeyId);
    await this.meanwhile(request);
    return credentials;
  }
}

/** Counts the store's reads, to keep the re-read to one GetItem. */
class CountingStore extends InMemorySessionStore {
  gets = 0;
  override async get(sessionId: string): Promise<Session | undefined> {
    this.gets += 1;
    return super.get(sessionId);
  }
}

const world = (
  meanwhile?: (store: InMemorySessionStore, clock: ManualClock) => Promise<unknown>,
  storeFailure: StoreFailureMode = 'deny',
) => {
  const clock = new ManualClock(NOW);
  const rows = new CountingStore().seed(activeSession());
  const issuer = new IssuerWithAWindow(clock, meanwhile ? () => meanwhile(rows, clock) : undefined);
  const telemetry = new RecordingTelemetry();
  const publisher = new RecordingPublisher();
  const deps = {
    store: rows,
    issuer,
    publisher,
    clock,
    ids: new SequentialIds(),
    profiles: PROFILES,
    storeFailure,
    telemetry,
  };
  const refresh = () =>
    refreshSession(deps)({ caller: CALLER, sessionId: SESSION_ID, profile: 'dev', policy: ALLOW_ALL_POLICY });
  const create = () =>
    createSession(deps)({ caller: CALLER, policy: ALLOW_ALL_POLICY, profile: 'dev', requestId: 'r-1' });
  return { rows, issuer, telemetry, publisher, refresh, create, gets: () => rows.gets };
};

const revokeMeanwhile =
  (sessionId = SESSION_ID) =>
  (store: InMemorySessionStore, clock: ManualClock) =>
    store.revoke(sessionId, { by: 'arn:aws:iam::111122223333:user/admin', reason: 'race', now: clock.now() });

describe('refresh: the session ends while STS answers', () => {
  it('a revocation after the touch: the minted credentials are withheld, answered as revoked (403), counted', async () => {
    const { refresh, issuer, telemetry, rows } = world(revokeMeanwhile());

    const outcome = await refresh();

    expect(outcome).toEqual({ ok: false, refusal: { kind: 'SessionRevoked' } });
    expect(issuer.minted).toHaveLength(1);
    expect(telemetry.counts.get('CredentialsWithheld')).toBe(1);
    expect(telemetry.counts.get('SessionRefreshed')).toBeUndefined();
    expect(telemetry.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'session ended while its credentials were issued; withheld, not handed out',
        attributes: expect.objectContaining({ why: 'revoked' }),
      }),
    );
    // Nothing of the withheld credentials but their expiry is logged.
    expect(JSON.stringify(telemetry.lines)).not.toMatch(/SeCrEtDoNoTlOg|ToKeNdOnOtLoG|ASIAFAKETEST/);
    expect(rows.all()[0]?.status).toBe('revoked');
  });

  it('an expiry after the touch: withheld, answered as expired (410) with the stored expiry', async () => {
    const { refresh, issuer, rows } = world((store, clock) =>
      store.expire(SESSION_ID, { reason: 'forced', now: clock.now(), force: true }),
    );

    const outcome = await refresh();

    const row = rows.all()[0];
    expect(row?.status).toBe('expired');
    expect(outcome).toEqual({ ok: false, refusal: { kind: 'SessionExpired', expiresAt: row?.expiresAt } });
    expect(issuer.minted).toHaveLength(1);
  });

  it('nothing lands meanwhile: handed out, at the cost of exactly one read after the touch', async () => {
    const { refresh, issuer, gets, telemetry } = world();

    const outcome = await refresh();

    expect(outcome.ok && outcome.value.credentials.AccessKeyId).toBe(issuer.minted[0]);
    expect(gets()).toBe(1);
    expect(telemetry.counts.get('CredentialsWithheld')).toBeUndefined();
    expect(telemetry.counts.get('SessionRefreshed')).toBe(1);
  });

  it('the re-read cannot reach the store: SESSION_STORE_FAILURE decides (deny withholds, allow hands out)', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' });
    const failReadMeanwhile = async (store: InMemorySessionStore) => store.failNext(down, 'get');
    const denied = world(failReadMeanwhile, 'deny');
    const allowed = world(failReadMeanwhile, 'allow');

    const deniedOutcome = await denied.refresh();
    const allowedOutcome = await allowed.refresh();

    expect(deniedOutcome).toEqual({ ok: false, refusal: { kind: 'StoreUnavailable' } });
    expect(denied.telemetry.counts.get('CredentialsWithheld')).toBe(1);
    expect(allowedOutcome.ok && allowedOutcome.value.credentials.AccessKeyId).toBe(allowed.issuer.minted[0]);
    expect(allowed.telemetry.counts.get('StoreFailureAllowed')).toBe(1);
  });
});

describe('create: the new session ends while STS answers', () => {
  it("a revocation of the user's sessions lands after the put: withheld (403); SessionCreated still states the creation", async () => {
    // The created id is the first SequentialIds gives; the revocation finds it as an admin's byUser pass would.
    const { create, issuer, publisher, telemetry, rows } = world(async (store, clock) => {
      const fresh = store.all().find((s) => s.sessionId !== SESSION_ID);
      if (fresh) await revokeMeanwhile(fresh.sessionId)(store, clock);
    });

    const outcome = await create();

    expect(outcome).toEqual({ ok: false, refusal: { kind: 'SessionRevoked' } });
    expect(issuer.minted).toHaveLength(1);
    expect(telemetry.counts.get('CredentialsWithheld')).toBe(1);
    expect(telemetry.counts.get('SessionCreated')).toBeUndefined();
    expect(rows.all().map((s) => s.status)).toEqual(['active', 'revoked']);
    expect(publisher.events.map((e) => e.detailType)).toEqual(['SessionCreated']);
  });

  it('nothing lands meanwhile: handed out after one read', async () => {
    const { create, issuer, gets } = world();

    const outcome = await create();

    expect(outcome.ok && outcome.value.credentials.AccessKeyId).toBe(issuer.minted[0]);
    expect(gets()).toBe(1);
  });
});
