/**
 * The credential-process lock on its own: exclusive, waited for, broken only when stale, and released only
 * by its holder.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, type LockOptions, processAlive } from '../../../src/cli/lock.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-lock-'));
  path = join(dir, 'x.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const options = (overrides: Partial<LockOptions> = {}): LockOptions => ({
  waitMs: 1000,
  staleMs: 60_000,
  pollMs: 5,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  pid: process.pid,
  hostname: 'here',
  isAlive: () => true,
  ...overrides,
});

describe('the credential-process lock', () => {
  it('is exclusive: a second taker waits until the first releases', async () => {
    const order: string[] = [];
    const releaseFirst = await acquireLock(path, options());
    const second = acquireLock(path, options()).then((release) => {
      order.push('second took it');
      return release;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    order.push('first releases');
    releaseFirst();
    (await second)();

    expect(order).toEqual(['first releases', 'second took it']);
    expect(existsSync(path)).toBe(false);
  });

  it('the lock file is created 0600 and names its holder', async () => {
    const release = await acquireLock(path, options({ pid: 4321, hostname: 'laptop' }));

    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: 4321, hostname: 'laptop' });
    release();
  });

  it('breaks a lock older than the stale age, even from a live holder on another host', async () => {
    writeFileSync(path, JSON.stringify({ pid: 1, hostname: 'elsewhere', nonce: 'old' }));
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);

    const release = await acquireLock(path, options());

    expect(JSON.parse(readFileSync(path, 'utf8')).hostname).toBe('here');
    release();
  });

  it('does not break a fresh lock of another host whose pid it cannot check', async () => {
    writeFileSync(path, JSON.stringify({ pid: 1, hostname: 'elsewhere', nonce: 'fresh' }));

    await expect(acquireLock(path, options({ waitMs: 30, isAlive: () => false }))).rejects.toThrow(/holds/);
    expect(JSON.parse(readFileSync(path, 'utf8')).nonce).toBe('fresh');
  });

  it('a release after the lock was broken and retaken leaves the new holder alone', async () => {
    const release = await acquireLock(path, options());
    writeFileSync(path, JSON.stringify({ pid: 2, hostname: 'here', nonce: 'someone-else' }));

    release();

    expect(JSON.parse(readFileSync(path, 'utf8')).nonce).toBe('someone-else');
  });

  it('tells a live process from a gone one', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 30)).toBe(false);
  });
});
