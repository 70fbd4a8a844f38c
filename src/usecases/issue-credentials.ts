/**
 * The one step that issues credentials within a session, shared by create and refresh: AssumeRole on the
 * session's own role under its RoleSessionName and SourceIdentity, a check of what came back, and the
 * re-read that decides whether they are handed out at all.
 *
 * "Issued" means handed to the caller in a response. Minting (STS answering) is not issuing: credentials
 * minted for a session that ended meanwhile are withheld and never leave the function.
 */
import { describeError, MalformedSessionRecordError } from '../domain/errors.js';
import { ok, type Result, refuse } from '../domain/result.js';
import type { Session } from '../domain/session.js';
import { buildRoleSessionName } from '../domain/sts-names.js';
import { type IssuedCredentials, IssuerDeniedError, IssuerThrottledError } from '../ports.js';
import { onStoreFailure } from './store-failure.js';
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

/**
 * The session was active when its credentials were asked for (the touch, or the create's put), but a
 * revocation or an expiry can land while STS answers; handing the credentials out then would issue them after
 * the terminal write (invariant 1). So after STS answers, one strongly consistent read: unless the row is
 * still active under the same grant (owner, profile, role), the credentials are withheld, logged and counted
 * (CredentialsWithheld), and the caller is answered as for a session that ended. Undefined: hand them out.
 * A revocation after this read is after the issue; the deny list covers those credentials by their tag.
 */
export const withheldUnlessStillActive = async (
  deps: Pick<VendDeps, 'store' | 'storeFailure' | 'telemetry' | 'lastKnown'>,
  session: Pick<Session, 'sessionId' | 'principalArn' | 'profile' | 'roleArn'>,
  credentials: IssuedCredentials,
): Promise<VendRefusal | undefined> => {
  let row: Session | undefined;
  try {
    row = await deps.store.get(session.sessionId);
  } catch (error) {
    if (error instanceof MalformedSessionRecordError) {
      return withhold(deps, session.sessionId, credentials, 'malformed', { kind: 'SessionUnverifiable' });
    }
    // Unreachable right after the touch or put succeeded: SESSION_STORE_FAILURE decides, as for any read.
    const decision = onStoreFailure(deps, error, {
      doing: 'on the re-read after issuing',
      allowing: 'handing out the credentials, the session active at the touch',
    });
    return decision === 'allow'
      ? undefined
      : withhold(deps, session.sessionId, credentials, 'unreadable', { kind: 'StoreUnavailable' });
  }
  if (row === undefined) {
    return withhold(deps, session.sessionId, credentials, 'removed', { kind: 'SessionNotFound' });
  }
  if (row.status === 'revoked') {
    return withhold(deps, session.sessionId, credentials, 'revoked', { kind: 'SessionRevoked' });
  }
  if (row.status === 'expired') {
    return withhold(deps, session.sessionId, credentials, 'expired', {
      kind: 'SessionExpired',
      expiresAt: row.expiresAt,
    });
  }
  if (
    row.principalArn !== session.principalArn ||
    row.profile !== session.profile ||
    row.roleArn !== session.roleArn
  ) {
    // No API path rewrites these: someone edited the row by hand. It is not the grant the caller was given.
    return withhold(deps, session.sessionId, credentials, 'grant-changed', { kind: 'SessionUnverifiable' });
  }
  return undefined;
};

const withhold = (
  deps: Pick<VendDeps, 'telemetry' | 'lastKnown'>,
  sessionId: string,
  credentials: IssuedCredentials,
  why: 'revoked' | 'expired' | 'removed' | 'grant-changed' | 'malformed' | 'unreadable',
  refusal: VendRefusal,
): VendRefusal => {
  deps.lastKnown?.forget(sessionId);
  deps.telemetry.count('CredentialsWithheld');
  // Nothing of the credentials but their expiry is logged. They carry the session tag, so CloudTrail ties
  // them to the session, and a revocation's deny list covers them though nobody holds them.
  deps.telemetry.warn('session ended while its credentials were issued; withheld, not handed out', {
    why,
    credentialExpiration: credentials.Expiration,
  });
  return refusal;
};
