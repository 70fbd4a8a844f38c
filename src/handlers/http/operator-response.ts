/** JSON answers of the operator API (docs/events.md, "Operator API"). Sessions carry no secret. */
import {
  executionArnFor,
  executionConsoleUrl,
  lifecycleExecutionName,
  revocationExecutionName,
} from '../../domain/executions.js';
import type { Session } from '../../domain/session.js';
import type { Page } from '../../ports.js';
import type { OperatorRefusal } from '../../usecases/operator-outcome.js';
import type { RevokeUserReport } from '../../usecases/revoke-user-sessions.js';
import type { HttpResult } from './event.js';
import { errorResponse, json } from './response.js';

/** A session as operators see it: the row without its bookkeeping (`version`, `ttl`). */
export const sessionView = (session: Session): Record<string, unknown> => {
  const { version: _version, ttl: _ttl, ...view } = session;
  return view;
};

export const listResponse = (page: Page<Session>): HttpResult =>
  json(200, {
    sessions: page.items.map(sessionView),
    ...(page.cursor === undefined ? {} : { nextCursor: page.cursor }),
  });

export interface ExecutionLinks {
  /** Absent when per-session lifecycle executions are switched off. */
  readonly lifecycleStateMachineArn?: string;
  readonly revocationFanoutStateMachineArn: string;
  /** False where the ARNs stand for no real account (the local stack): no console links then. */
  readonly linkConsole?: boolean;
}

const execution = (links: ExecutionLinks, stateMachineArn: string, name: string): Record<string, string> => {
  const executionArn = executionArnFor(stateMachineArn, name);
  const consoleUrl = links.linkConsole === false ? undefined : executionConsoleUrl(executionArn);
  return consoleUrl === undefined ? { executionArn } : { executionArn, consoleUrl };
};

/** The session and where to trace it: its lifecycle execution and, once revoked, its fan-out. */
export const showResponse = (session: Session, links: ExecutionLinks): HttpResult =>
  json(200, {
    session: sessionView(session),
    workflows: {
      ...(links.lifecycleStateMachineArn === undefined
        ? {}
        : {
            lifecycle: execution(
              links,
              links.lifecycleStateMachineArn,
              lifecycleExecutionName(session.sessionId),
            ),
          }),
      ...(session.status === 'revoked'
        ? {
            revocationFanout: execution(
              links,
              links.revocationFanoutStateMachineArn,
              revocationExecutionName(session.sessionId),
            ),
          }
        : {}),
    },
  });

export const revokedResponse = (session: Session): HttpResult => json(200, { session: sessionView(session) });

export const revokeUserResponse = (report: RevokeUserReport): HttpResult => json(200, report);

export const operatorRefusalResponse = (refusal: OperatorRefusal): HttpResult => {
  switch (refusal.kind) {
    case 'SessionNotFound':
      return errorResponse(404, 'SessionNotFound', 'no such session');
    case 'AdminRequired':
      return errorResponse(
        403,
        'AdminRequired',
        `${refusal.what} needs an admin (the access policy's admins)`,
      );
    case 'PolicyUnavailable':
      return errorResponse(
        503,
        'PolicyUnavailable',
        'no valid access policy could be read, so admin rights cannot be checked; retry later',
      );
    case 'AlreadyTerminal':
      return json(409, {
        code: 'SessionAlreadyTerminal',
        message: `the session is already ${refusal.status}`,
        status: refusal.status,
      });
  }
};
