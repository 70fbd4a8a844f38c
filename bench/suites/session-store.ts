/**
 * DynamoDbSessionStore on DynamoDB Local: latency of the hot-path touch (the per-request revocation check),
 * a listActive page over all shards, and how a 20-way revoke/expire race resolves. Local latencies are only
 * comparable run to run on the same machine, not with DynamoDB in AWS.
 */
import { randomIds } from '../../src/domain/ids.js';
import { newSession } from '../../src/domain/session.js';
import { iamUserCaller } from '../../test/support/callers.js';
import { type Metrics, percentile, type Suite, timeMs } from '../harness.js';
import { withTemplateSessionStore } from '../local-store.js';

const TOUCHES = 200;
const SESSIONS = 120;

const sessionFor = (user: string, now: Date) =>
  newSession({
    sessionId: randomIds.sessionId(),
    caller: iamUserCaller(user),
    profile: 'readonly',
    roleArn: 'arn:aws:iam::123456789012:role/sentinel-readonly',
    sourceIdentity: `sentinel:${user}:direct:bench`,
    policy: { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 4 * 3600 },
    now,
  });

const suite: Suite = {
  name: 'session-store',
  targets: [
    { metric: 'sessionStore.raceWinners', op: '<=', value: 1 },
    { metric: 'sessionStore.raceWinners', op: '>=', value: 1 },
  ],
  async run(): Promise<Metrics> {
    return withTemplateSessionStore(async (store) => {
      const now = new Date();
      const sessions = Array.from({ length: SESSIONS }, (_, i) => sessionFor(`user${i % 10}`, now));
      // One at a time: a concurrent burst would measure the local JVM's queue, not a create.
      const createMs: number[] = [];
      for (const s of sessions) createMs.push(await timeMs(() => store.create(s)));

      const touchMs: number[] = [];
      for (let i = 0; i < TOUCHES; i++) {
        const s = sessions[i % SESSIONS];
        if (s === undefined) continue;
        const at = new Date(now.getTime() + i * 1000);
        touchMs.push(
          await timeMs(() =>
            store.touch(s.sessionId, {
              principalArn: s.principalArn,
              now: at,
              extendTo: new Date(at.getTime() + 3600_000).toISOString(),
            }),
          ),
        );
      }

      const pageMs: number[] = [];
      for (let i = 0; i < 20; i++) pageMs.push(await timeMs(() => store.listActive(now, { limit: 25 })));
      const byUserMs: number[] = [];
      for (let i = 0; i < 20; i++) byUserMs.push(await timeMs(() => store.listByUser('user1', { limit: 5 })));

      const target = sessions[0];
      if (target === undefined) throw new Error('no session');
      const late = new Date(now.getTime() + 10 * 3600_000);
      let results: Awaited<ReturnType<typeof store.revoke>>[] = [];
      const raceMs = await timeMs(async () => {
        results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            i % 2 === 0
              ? store.revoke(target.sessionId, { by: 'bench', reason: 'race', now: late })
              : store.expire(target.sessionId, { reason: 'lazy', now: late }),
          ),
        );
      });

      return {
        'sessionStore.createP50Ms': percentile(createMs, 50),
        'sessionStore.touchP50Ms': percentile(touchMs, 50),
        'sessionStore.touchP95Ms': percentile(touchMs, 95),
        'sessionStore.listActivePageP50Ms': percentile(pageMs, 50),
        'sessionStore.listByUserPageP50Ms': percentile(byUserMs, 50),
        'sessionStore.race20Ms': raceMs,
        'sessionStore.raceWinners': results.filter((r) => r.ok).length,
      };
    });
  },
};

export default suite;
