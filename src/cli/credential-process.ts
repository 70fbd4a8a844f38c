/**
 * `credential-process`: the AWS CLI's credential_process contract. On success stdout holds exactly
 * `{"Version":1,"AccessKeyId","SecretAccessKey","SessionToken","Expiration"}`; on any failure stdout stays
 * empty and stderr gets one line, so the AWS CLI never runs on stale or partial credentials.
 *
 * One session per (API, profile, signer) is kept in the cache and refreshed on every run. The cache holds
 * the session id, never a credential. A session an operator revoked is remembered as revoked: refreshing
 * it is refused, and silently starting a new one would undo the operator's decision for as long as the
 * AWS CLI keeps asking, so later runs refuse too until the user passes --new-session.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isSessionId } from '../domain/ids.js';
import { ApiError, failure, usageError } from './errors.js';
import type { ApiClient, JsonObject } from './http.js';
import { acquireLock, type LockOptions } from './lock.js';
import type { CachedSession, SessionCache } from './session-cache.js';

/**
 * Set for the credential providers this run starts: when the signing credentials would come from this
 * same credential_process (AWS_PROFILE naming the profile that runs it), the child finds its own
 * (API, profile) here and stops instead of recursing.
 */
export const RECURSION_ENV = 'SENTINEL_SESSIONS_CREDENTIAL_PROCESS_CHAIN';
/**
 * Where a refusing child leaves its reason for its parent: the SDK's credential chain swallows a failed
 * credential_process's stderr and reports only "Could not load credentials from any providers".
 */
export const RECURSION_REPORT_ENV = 'SENTINEL_SESSIONS_CREDENTIAL_PROCESS_REPORT';

export interface CredentialProcessOutput {
  readonly Version: 1;
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
  readonly SessionToken: string;
  readonly Expiration: string;
}

interface Vended {
  readonly sessionId: string;
  readonly expiresAt: string;
  readonly output: CredentialProcessOutput;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/** The vend answer, checked: anything missing or already expired is refused, never printed. */
export const parseVended = (body: JsonObject, now: Date): Vended => {
  const credentials = (body.credentials ?? {}) as Record<string, unknown>;
  const accessKeyId = text(credentials.AccessKeyId);
  const secretAccessKey = text(credentials.SecretAccessKey);
  const sessionToken = text(credentials.Token);
  const expiration = text(credentials.Expiration);
  const expiresAt = text(body.expiresAt);
  const expiry = expiration === undefined ? Number.NaN : Date.parse(expiration);
  if (
    !isSessionId(body.sessionId) ||
    !accessKeyId ||
    !secretAccessKey ||
    !sessionToken ||
    !expiresAt ||
    Number.isNaN(expiry)
  ) {
    throw failure('the API answered without usable credentials');
  }
  if (expiry <= now.getTime()) throw failure('the API answered with credentials that have already expired');
  return {
    sessionId: body.sessionId,
    expiresAt,
    output: {
      Version: 1,
      AccessKeyId: accessKeyId,
      SecretAccessKey: secretAccessKey,
      SessionToken: sessionToken,
      Expiration: new Date(expiry).toISOString(),
    },
  };
};

const chainEntry = (api: string, profile: string): string =>
  createHash('sha256').update(`${api}\n${profile}`).digest('hex').slice(0, 16);

/**
 * Refuses (exit 2) when this (API, profile) is already being served further up the process chain, leaving
 * the reason where the parent looks for it; otherwise records it, and where to report, for the children
 * the credential providers may start.
 */
export const guardRecursion = (input: {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly setEnv: (name: string, value: string) => void;
  readonly api: string;
  readonly profile: string;
  /** This run's report file, in its private cache directory. */
  readonly reportPath: string;
}): void => {
  const chain = (input.env[RECURSION_ENV] ?? '').split(',').filter((entry) => entry !== '');
  const own = chainEntry(input.api, input.profile);
  if (chain.includes(own)) {
    const message = `credential-process for profile ${input.profile} was asked for the credentials that sign its own requests: pass --aws-profile NAME naming an AWS profile with other credentials`;
    const report = input.env[RECURSION_REPORT_ENV];
    if (report) writeFileSync(report, message, { mode: 0o600 });
    throw usageError(message);
  }
  input.setEnv(RECURSION_ENV, [...chain, own].join(','));
  input.setEnv(RECURSION_REPORT_ENV, input.reportPath);
};

/** The reason a child credential-process refused as recursion, if one did (read once). */
export const takeRecursionReport = (reportPath: string): string | undefined => {
  try {
    const message = readFileSync(reportPath, 'utf8');
    rmSync(reportPath, { force: true });
    return message;
  } catch {
    return undefined;
  }
};

export interface CredentialProcessInput {
  readonly api: ApiClient;
  readonly cache: SessionCache;
  readonly lock: LockOptions;
  readonly now: () => Date;
  readonly profile: string;
  readonly durationSeconds?: number;
  readonly newSession: boolean;
}

const describe = (error: ApiError): string => `${error.code ?? `HTTP ${error.status}`}: ${error.message}`;

const refreshPath = (sessionId: string) => `/v1/sessions/${sessionId}/credentials`;

/** Why an operator revoked the session, if the API will say (best effort: the refusal stands either way). */
const revocationReason = async (api: ApiClient, sessionId: string): Promise<string | undefined> => {
  try {
    const shown = await api.request({ method: 'GET', path: `/v1/sessions/${sessionId}` });
    const session = (shown.session ?? {}) as Record<string, unknown>;
    const reason = text(session.revokedReason);
    const by = text(session.revokedBy);
    return reason ? `${reason}${by ? ` (by ${by})` : ''}` : undefined;
  } catch {
    return undefined;
  }
};

const startSession = async (input: CredentialProcessInput): Promise<Vended> => {
  const body = await input.api.request({
    method: 'POST',
    path: '/v1/sessions',
    body: {
      profile: input.profile,
      ...(input.durationSeconds === undefined ? {} : { durationSeconds: input.durationSeconds }),
    },
  });
  const vended = parseVended(body, input.now());
  const at = input.now().toISOString();
  input.cache.write({
    sessionId: vended.sessionId,
    expiresAt: vended.expiresAt,
    startedAt: at,
    refreshedAt: at,
  });
  return vended;
};

const refreshSession = async (input: CredentialProcessInput, cached: CachedSession): Promise<Vended> => {
  const { cache, api } = input;
  const id = cached.sessionId;
  try {
    const body = await api.request({
      method: 'POST',
      path: refreshPath(id),
      body: { profile: input.profile },
    });
    const vended = parseVended(body, input.now());
    if (vended.sessionId !== id) throw failure(`the API refreshed session ${vended.sessionId}, not ${id}`);
    cache.write({ ...cached, expiresAt: vended.expiresAt, refreshedAt: input.now().toISOString() });
    return vended;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    switch (error.code) {
      case 'SessionAtMaxLifetime':
        // The session reached its hard cap: the API's own advice is to start a new one.
        return startSession(input);
      case 'SessionExpired':
      case 'SessionNotFound':
        cache.forget();
        throw failure(`session ${id} ended (${error.code}): the next run starts a new session`);
      case 'NotOwner':
      case 'ProfileMismatch':
        // This signer can never refresh it: forget it rather than fail the same way forever.
        cache.forget();
        throw failure(
          `${error.code}: ${error.message} (session ${id} forgotten: the next run starts a new one)`,
        );
      case 'SessionRevoked': {
        const reason = (await revocationReason(api, id)) ?? error.message;
        cache.write({ ...cached, revoked: { at: input.now().toISOString(), reason } });
        throw failure(`session ${id} was revoked: ${reason}; pass --new-session to start a new session`);
      }
      default:
        throw failure(describe(error));
    }
  }
};

export const credentialProcess = async (input: CredentialProcessInput): Promise<CredentialProcessOutput> => {
  const release = await acquireLock(input.cache.lockPath, input.lock);
  try {
    const cached = input.cache.read();
    if (cached && !input.newSession) {
      if (cached.revoked) {
        throw failure(
          `session ${cached.sessionId} was revoked: ${cached.revoked.reason}; pass --new-session to start a new session`,
        );
      }
      return (await refreshSession(input, cached)).output;
    }
    return (await startSession(input)).output;
  } catch (error) {
    if (error instanceof ApiError) throw failure(describe(error));
    throw error;
  } finally {
    release();
  }
};
