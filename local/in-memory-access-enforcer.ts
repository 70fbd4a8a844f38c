/**
 * AccessEnforcer for the local stack and tests: no IAM here, so the deny lists are kept in memory, per role,
 * with the same pure rules as the IAM adapter (src/domain/deny-list.ts), and the policy each role would
 * carry can be rendered for inspection.
 */
import type { Clock } from '../src/domain/clock.js';
import {
  type DenyEntry,
  type DenyPolicyDocument,
  nextDenyList,
  renderDenyPolicy,
} from '../src/domain/deny-list.js';
import type { AccessEnforcer } from '../src/ports.js';

export class InMemoryAccessEnforcer implements AccessEnforcer {
  readonly #lists = new Map<string, readonly DenyEntry[]>();
  readonly #clock: Clock;
  readonly #maxChars: number | undefined;

  constructor(options: { readonly clock?: Clock; readonly maxPolicyChars?: number } = {}) {
    this.#clock = options.clock ?? { now: () => new Date() };
    this.#maxChars = options.maxPolicyChars;
  }

  async denySession(input: {
    readonly roleArn: string;
    readonly sessionId: string;
    readonly until: string;
  }): Promise<{ readonly alreadyDenied: boolean }> {
    const next = nextDenyList(
      this.#lists.get(input.roleArn) ?? [],
      { sessionId: input.sessionId, until: input.until },
      { now: this.#clock.now(), ...(this.#maxChars === undefined ? {} : { maxChars: this.#maxChars }) },
    );
    this.#lists.set(input.roleArn, next.entries);
    return { alreadyDenied: next.alreadyDenied };
  }

  /** Role ARN → the session ids denied on it. */
  denied(): Record<string, string[]> {
    return Object.fromEntries(
      [...this.#lists].map(([role, entries]) => [role, entries.map((e) => e.sessionId)]),
    );
  }

  /** The SentinelRevokedSessions policy the role would carry in AWS. */
  policyOf(roleArn: string): DenyPolicyDocument {
    return renderDenyPolicy(this.#lists.get(roleArn) ?? []);
  }
}
