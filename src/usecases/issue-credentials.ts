/**
 * The one step that issues credentials within a session, shared by create and refresh: AssumeRole on the
 * session's own role under its RoleSessionName and SourceIdentity, and a check of what came back.
 */
import { describeError } from '../domain/errors.js';
import { ok, type Result, refuse } from '../domain/result.js';
import type { Session } from '../domain/session.js';
import { buildRoleSessionName } from '../domain/sts-names.js';
import { type IssuedCredentials, IssuerDeniedError, IssuerThrottledError } from '../ports.js';
import type { VendDeps } from './vend-deps.js';
import type { VendRefusal } from './vend-outcome.js';

const issuerRefusal = (error: unknown): VendRefusal =>
  error instanceof IssuerDeniedError
    ? { kind: 'IssuerDenied' }
    : error instanceof IssuerThrottledError
      ? { kind: 'IssuerThrottled' }
      : { kind: 'IssuerFailed' };

/**
 * Invariant 3, checked on what the issuer actually returned: credentials must end no later than their
 * session. DurationSeconds already leaves a safety margin, so a later Expiration (or an unreadable one) is
 * an issuer bug, and vending fails closed on it.
 */
export const outlivesSession = (credentials: IssuedCredentials, expiresAt: string): boolean => {
  const expiration = new Date(credentials.Expiration).getTime();
  const end = new Date(expiresAt).getTime();
  return !(Number.isFinite(expiration) && Number.isFinite(end) && expiration <= end);
};

/** Credentials for `session` lasting `durationSeconds`, or the refusal to answer (502/503). */
export const issueWithinSession = async (
  deps: Pick<VendDeps, 'issuer' | 'telemetry'>,
  session: Pick<Session, 'sessionId' | 'user' | 'roleArn' | 'sourceIdentity' | 'expiresAt'>,
  durationSeconds: number,
  options: { readonly abortSignal?: AbortSignal } = {},
): Promise<Result<IssuedCredentials, VendRefusal>> => {
  let credentials: IssuedCredentials;
  try {
    credentials = await deps.issuer.issue(
      {
        roleArn: session.roleArn,
        roleSessionName: buildRoleSessionName({ user: session.user, sessionId: session.sessionId }),
        sourceIdentity: session.sourceIdentity,
        sessionId: session.sessionId,
        durationSeconds,
      },
      options,
    );
  } catch (error) {
    // Abandoned by the caller (the session could not be recorded): not the issuer's failure.
    if (options.abortSignal?.aborted) return refuse(issuerRefusal(error));
    deps.telemetry.count('IssuerFailure');
    deps.telemetry.error('credential issuer failed', describeError(error));
    return refuse(issuerRefusal(error));
  }
  if (outlivesSession(credentials, session.expiresAt)) {
    deps.telemetry.count('CredentialOutlivesSession');
    deps.telemetry.error('issuer returned credentials that outlive the session; not handed out', {
      credentialExpiration: credentials.Expiration,
      expiresAt: session.expiresAt,
      durationSeconds,
    });
    return refuse({ kind: 'IssuerFailed' });
  }
  return ok(credentials);
};
