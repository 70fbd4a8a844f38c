/**
 * What credential_process remembers between runs: the session id and non-secret facts about it, one file
 * per (API, sentinel profile, signing identity), never a credential. The directory is the user's alone
 * (0700) and so is each file (0600, created so, re-tightened if found wider): a session id is not a
 * secret, but it tells which session to refresh, and nobody else should be able to point it elsewhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isSessionId } from '../domain/ids.js';
import { failure } from './errors.js';

export const CACHE_DIR_NAME = 'sentinel-sessions';

export interface CachedSession {
  readonly sessionId: string;
  readonly expiresAt: string;
  readonly startedAt: string;
  readonly refreshedAt: string;
  /** Set when the API said the session was revoked: later runs refuse until --new-session. */
  readonly revoked?: { readonly at: string; readonly reason: string };
}

export interface CacheKey {
  readonly api: string;
  readonly profile: string;
  /** Who signs: the local caller ARN, or `aws-profile:<name>` / `aws-default-chain`. */
  readonly signer: string;
}

/** `$XDG_CACHE_HOME/sentinel-sessions` (only an absolute XDG_CACHE_HOME counts), else `~/.cache/…`. */
export const cacheDirectory = (env: Readonly<Record<string, string | undefined>>, home: string): string => {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.cache'), CACHE_DIR_NAME);
};

const isPrivate = (mode: number): boolean => (mode & 0o077) === 0;

/** Creates the directory 0700, or tightens it to 0700; refuses one that is not ours or not a directory. */
export const ensurePrivateDirectory = (dir: string): void => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) throw failure(`the cache path ${dir} is not a directory`);
  if (process.getuid && stat.uid !== process.getuid())
    throw failure(`the cache directory ${dir} is not yours`);
  if (!isPrivate(stat.mode)) chmodSync(dir, 0o700);
};

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

const parseCached = (text: string, key: CacheKey): CachedSession | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const file = parsed as {
    schema?: unknown;
    key?: Partial<CacheKey>;
    session?: Partial<CachedSession>;
  } | null;
  const session = file?.session;
  // A file for another key (a hash collision, or a hand edit) is not this session.
  if (file?.schema !== 1 || file.key?.api !== key.api || file.key?.profile !== key.profile) return undefined;
  if (file.key?.signer !== key.signer || !session || !isSessionId(session.sessionId)) return undefined;
  if (!isText(session.expiresAt) || !isText(session.startedAt) || !isText(session.refreshedAt))
    return undefined;
  const revoked = session.revoked;
  return {
    sessionId: session.sessionId,
    expiresAt: session.expiresAt,
    startedAt: session.startedAt,
    refreshedAt: session.refreshedAt,
    ...(revoked && isText(revoked.at) && isText(revoked.reason)
      ? { revoked: { at: revoked.at, reason: revoked.reason } }
      : {}),
  };
};

export class SessionCache {
  readonly path: string;
  readonly lockPath: string;

  constructor(
    readonly dir: string,
    private readonly key: CacheKey,
  ) {
    const name = createHash('sha256')
      .update(JSON.stringify([key.api, key.profile, key.signer]))
      .digest('hex');
    this.path = join(dir, `session-${name.slice(0, 32)}.json`);
    this.lockPath = join(dir, `session-${name.slice(0, 32)}.lock`);
  }

  /** The cached session, or undefined (none, or unreadable: then the next write replaces it). */
  read(): CachedSession | undefined {
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(this.path);
    } catch {
      return undefined;
    }
    if (!stat.isFile()) throw failure(`the cache file ${this.path} is not a regular file`);
    if (!isPrivate(stat.mode)) chmodSync(this.path, 0o600);
    return parseCached(readFileSync(this.path, 'utf8'), this.key);
  }

  /** Written whole to a new 0600 file, then renamed over the old one: a reader never sees half a file. */
  write(session: CachedSession): void {
    const temporary = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ schema: 1, key: this.key, session }, null, 2)}\n`);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.path);
  }

  forget(): void {
    rmSync(this.path, { force: true });
  }
}
