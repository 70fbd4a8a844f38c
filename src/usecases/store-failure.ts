/**
 * SESSION_STORE_FAILURE (invariant 5): what to do when the Sessions table cannot be reached.
 * - `deny` (default): 503, nothing vended.
 * - `allow`: logged and counted, and
 *   - create vends credentials without a row (untracked: no refresh, no lifecycle, no SessionCreated event;
 *     the credentials still end at the session's initial expiry, so invariant 3 holds),
 *   - refresh vends only for a session this container saw active, owned by the caller and not past the
 *     expiry it last saw, for at most the time left until that expiry, never extending it. Its revocation
 *     status is unknown: that is the risk the switch accepts. Any other session id is still denied.
 *   - an idempotent replay of a create is answered without re-checking the session.
 */
import { DomainError, describeError } from '../domain/errors.js';
import type { VendDeps } from './vend-deps.js';

export type StoreFailureMode = 'deny' | 'allow';
export const STORE_FAILURE_MODES = ['deny', 'allow'] as const satisfies readonly StoreFailureMode[];

/**
 * The one deny/allow branch: the store failed with `error` while `doing` something. A domain error
 * (SessionAlreadyExists, a bad cursor …) is a bug or a collision, never "store unreachable": it is rethrown.
 * Otherwise the decision is logged and counted once, and returned. `allowing` says what `allow` goes on to
 * do; `cannotAllow`, when set, says why this request is denied even under `allow`.
 */
export const onStoreFailure = (
  deps: Pick<VendDeps, 'storeFailure' | 'telemetry'>,
  error: unknown,
  situation: {
    readonly doing: string;
    readonly allowing: string;
    readonly cannotAllow?: string | undefined;
    readonly attributes?: Readonly<Record<string, unknown>>;
  },
): StoreFailureMode => {
  if (error instanceof DomainError) throw error;
  const attributes = { ...describeError(error), ...situation.attributes };
  if (deps.storeFailure === 'deny' || situation.cannotAllow !== undefined) {
    deps.telemetry.count('StoreFailureDenied');
    deps.telemetry.error(
      deps.storeFailure === 'deny'
        ? `session store unreachable ${situation.doing}; denied (SESSION_STORE_FAILURE=deny)`
        : `session store unreachable ${situation.doing} and ${situation.cannotAllow}; denied`,
      attributes,
    );
    return 'deny';
  }
  deps.telemetry.count('StoreFailureAllowed');
  deps.telemetry.warn(
    `session store unreachable ${situation.doing}; ${situation.allowing} (SESSION_STORE_FAILURE=allow)`,
    attributes,
  );
  return 'allow';
};
