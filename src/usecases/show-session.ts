/** GET /v1/sessions/{id}: the session, for its owner or an admin; anyone else learns nothing. */
import { accessTo, type Operator } from '../domain/operators.js';
import { ok, type Result, refuse } from '../domain/result.js';
import type { Session } from '../domain/session.js';
import type { SessionStore } from '../ports.js';
import type { OperatorRefusal } from './operator-outcome.js';

/** The session if the operator may act on it; otherwise the refusal that reveals nothing about it. */
export const visibleSession = async (
  store: Pick<SessionStore, 'get'>,
  operator: Operator,
  sessionId: string,
): Promise<Result<Session, OperatorRefusal>> => {
  const session = await store.get(sessionId);
  switch (accessTo(operator, session)) {
    case 'granted':
      return session === undefined ? refuse({ kind: 'SessionNotFound' }) : ok(session);
    case 'hidden':
      return refuse({ kind: 'SessionNotFound' });
    case 'undecidable':
      return refuse({ kind: 'PolicyUnavailable' });
  }
};

export const showSession =
  (deps: { readonly store: Pick<SessionStore, 'get'> }) =>
  (input: {
    readonly operator: Operator;
    readonly sessionId: string;
  }): Promise<Result<Session, OperatorRefusal>> =>
    visibleSession(deps.store, input.operator, input.sessionId);
