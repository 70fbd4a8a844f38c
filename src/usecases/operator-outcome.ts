/** What the operator use cases refuse with; the HTTP layer maps each to a status and a public code. */
import type { Session, TerminalStatus } from '../domain/session.js';

export type OperatorRefusal =
  /** No such session, or one the caller may not see: the same answer, so existence is not revealed. */
  | { readonly kind: 'SessionNotFound' }
  /** The route or filter needs an admin (the access policy's `admins`). */
  | { readonly kind: 'AdminRequired'; readonly what: string }
  /** The access policy cannot be read, so whether the caller is an admin cannot be told. */
  | { readonly kind: 'PolicyUnavailable' }
  | { readonly kind: 'AlreadyTerminal'; readonly status: TerminalStatus; readonly session: Session };
