/**
 * An exclusive lock file beside the session cache, so that the several credential_process runs the AWS
 * CLI may start at once do not each create a session: the first takes the lock (O_EXCL), the others wait
 * for it and then find the session it cached. A lock whose holder died (same host, pid gone) or that is
 * older than any run can take is stale and broken.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { failure } from './errors.js';

export interface LockOptions {
  /** How long to wait for another run to finish. */
  readonly waitMs: number;
  /** A lock older than this is stale: longer than one run can take (two requests and their time limits). */
  readonly staleMs: number;
  readonly pollMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly pid: number;
  readonly hostname: string;
  readonly isAlive: (pid: number) => boolean;
}

interface Holder {
  readonly pid: number;
  readonly hostname: string;
  readonly nonce: string;
}

const readHolder = (path: string): Holder | undefined => {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    if (
      typeof parsed.pid === 'number' &&
      typeof parsed.hostname === 'string' &&
      typeof parsed.nonce === 'string'
    ) {
      return { pid: parsed.pid, hostname: parsed.hostname, nonce: parsed.nonce };
    }
  } catch {
    // Unreadable or half-written: judged by its age alone.
  }
  return undefined;
};

const errnoOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

/** The lock's age in ms, or undefined when it is gone. */
const ageOf = (path: string, now: number): number | undefined => {
  try {
    return now - statSync(path).mtimeMs;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  }
};

/**
 * Breaks the lock at `path` if it is still the stale one seen (`nonce`): it is moved aside first, so that a
 * lock another run took meanwhile is put back rather than deleted.
 */
const breakStale = (path: string, nonce: string | undefined): void => {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return;
    throw error;
  }
  if (nonce !== undefined && readHolder(aside)?.nonce !== nonce) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone holds a newer lock already; the one moved aside was not the stale one either way.
    }
  }
  unlinkSync(aside);
};

/** Takes the lock, waiting for it at most `waitMs`; returns its release. */
export const acquireLock = async (path: string, options: LockOptions): Promise<() => void> => {
  const nonce = randomBytes(12).toString('hex');
  const deadline = options.now() + options.waitMs;
  for (;;) {
    try {
      writeFileSync(path, JSON.stringify({ pid: options.pid, hostname: options.hostname, nonce }), {
        flag: 'wx',
        mode: 0o600,
      });
      return () => {
        // Only our own lock: a stale-lock breaker may have replaced it.
        if (readHolder(path)?.nonce === nonce) unlinkSync(path);
      };
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') throw error;
    }
    const holder = readHolder(path);
    const age = ageOf(path, options.now());
    if (age === undefined) continue;
    const holderDied =
      holder !== undefined && holder.hostname === options.hostname && !options.isAlive(holder.pid);
    if (holderDied || age > options.staleMs) {
      breakStale(path, holder?.nonce);
      continue;
    }
    if (options.now() >= deadline) {
      throw failure(
        `another sentinel-sessions run${holder ? ` (pid ${holder.pid})` : ''} holds ${path}; try again, or delete the file if no run is going on`,
      );
    }
    await options.sleep(options.pollMs);
  }
};

/** Whether a process with this pid exists (EPERM: it exists, as another user's). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) === 'EPERM';
  }
};
