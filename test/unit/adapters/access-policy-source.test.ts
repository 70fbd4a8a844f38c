/**
 * The cached policy loader: an edit applies once the cache expires, a bad or unreadable policy denies for
 * the whole period and is logged once per period, concurrent requests share one read.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/manual-clock.js';
import { CachedPolicySource } from '../../../src/adapters/access-policy-source.js';
import { parsePolicyJson } from '../../../src/domain/access-policy-document.js';
import { PolicyUnavailableError } from '../../../src/ports.js';

const policy = (version: string, effect: 'allow' | 'deny') =>
  JSON.stringify({ version, admins: [], rules: [{ name: `${effect}-all`, effect }] });

const loader = (initial: string | Error) => {
  const clock = new ManualClock('2026-01-15T09:30:00.000Z');
  const source: { value: string | Error; reads: number } = { value: initial, reads: 0 };
  const logged: { kind: string; message?: string; attributes: Readonly<Record<string, unknown>> }[] = [];
  const policies = new CachedPolicySource({
    read: async () => {
      source.reads += 1;
      if (source.value instanceof Error) throw source.value;
      return source.value;
    },
    parse: (text) => parsePolicyJson(text, 'test policy'),
    clock,
    maxAgeSeconds: 60,
    where: '/test/policy',
    log: {
      unavailable: (message, attributes) => logged.push({ kind: 'unavailable', message, attributes }),
      loaded: (attributes) => logged.push({ kind: 'loaded', attributes }),
    },
  });
  return { clock, source, logged, policies };
};

describe('CachedPolicySource', () => {
  it('serves the cached policy until it is max-age old, then the edited one', async () => {
    const { clock, source, policies } = loader(policy('1', 'allow'));
    expect((await policies.current()).version).toBe('1');
    source.value = policy('2', 'deny');
    clock.advanceSeconds(59);
    expect((await policies.current()).version).toBe('1');
    clock.advanceSeconds(1);
    expect((await policies.current()).version).toBe('2');
    expect(source.reads).toBe(2);
  });

  it('an invalid policy denies for the whole period, logged once with its problems, then recovers', async () => {
    const { clock, source, logged, policies } = loader(
      '{"version":1,"rules":[{"name":"x","effect":"maybe"}]}',
    );
    for (let i = 0; i < 5; i++) {
      await expect(policies.current()).rejects.toBeInstanceOf(PolicyUnavailableError);
      clock.advanceSeconds(10);
    }
    const unavailable = logged.filter((l) => l.kind === 'unavailable');
    expect(unavailable).toHaveLength(1);
    expect(unavailable[0]?.message).toMatch(/\/test\/policy is invalid; every vend is denied/);
    expect(JSON.stringify(unavailable[0]?.attributes.problems)).toMatch(/effect/);
    source.value = policy('3', 'allow');
    clock.advanceSeconds(10);
    expect((await policies.current()).version).toBe('3');
  });

  it('an unreadable parameter denies (never the last good policy after it expired)', async () => {
    const { clock, source, logged, policies } = loader(policy('1', 'allow'));
    await policies.current();
    source.value = Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    clock.advanceSeconds(60);
    await expect(policies.current()).rejects.toThrow(/could not be read/);
    expect(logged.at(-1)).toMatchObject({
      kind: 'unavailable',
      attributes: { errorName: 'AccessDeniedException' },
    });
  });

  it('concurrent requests share one read; an unchanged text is not parsed or logged again', async () => {
    const { clock, source, logged, policies } = loader(policy('1', 'allow'));
    await Promise.all(Array.from({ length: 20 }, () => policies.current()));
    expect(source.reads).toBe(1);
    clock.advanceSeconds(61);
    await policies.current();
    expect(source.reads).toBe(2);
    expect(logged.filter((l) => l.kind === 'loaded')).toHaveLength(1);
  });
});
