import type { Session } from '../domain/session.js';

/**
 * Sessions this container last saw active, for SESSION_STORE_FAILURE=allow on refresh only (see
 * store-failure.ts). Bounded; the oldest entry goes first.
 */
export class LastKnownSessions {
  readonly #entries = new Map<string, Session>();
  constructor(readonly capacity = 1000) {}
  remember(session: Session): void {
    this.#entries.delete(session.sessionId);
    if (session.status !== 'active') return;
    this.#entries.set(session.sessionId, session);
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
  forget(sessionId: string): void {
    this.#entries.delete(sessionId);
  }
  get(sessionId: string): Session | undefined {
    return this.#entries.get(sessionId);
  }
}
