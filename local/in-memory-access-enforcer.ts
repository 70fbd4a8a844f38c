/**
 * AccessEnforcer for the local stack and tests: no IAM here, so the deny lists are kept in memory, per
 * account and role, with the same pure rules as the IAM adapter (src/domain/deny-list.ts), and the policy
 * each role would carry can be rendered for inspection.
 *
 * Accounts are modelled as IAM draws them: a write carries the credentials of one account and lands only on a
 * role of that account. With `homeAccountId` set, a role in another account is written only through the
 * "assumed" path — the enforcement role of a member account (`memberAccounts`: those that deployed
 * template-member.yaml) — and a write to another account's role with the home credentials is refused, as
 * IAM would. Without it, one account holds every role (the default local stack).
 */
import { parseRoleArn } from '../src/domain/arn.js';
import type { Clock } from '../src/domain/clock.js';
import {
  type DenyEntry,
  type DenyPolicyDocument,
  nextDenyList,
  renderDenyPolicy,
} from '../src/domain/deny-list.js';
import { InvalidInputError } from '../src/domain/errors.js';
import type { AccessEnforcer } from '../src/ports.js';

/** Local stand-in for IAM's AccessDenied: a write outside the credentials' account, or no role to assume. */
export class LocalAccessDeniedError extends Error {
  override readonly name = 'AccessDenied';
}

/** Credentials as the local model sees them: which account they act in, and how they were obtained. */
interface LocalCredentials {
  readonly accountId: string;
  readonly via: 'own' | 'assumed';
}

export class InMemoryAccessEnforcer implements AccessEnforcer {
  /** Account id → role ARN → entries (`*` is the single account when no home account is modelled). */
  readonly #accounts = new Map<string, Map<string, readonly DenyEntry[]>>();
  readonly #clock: Clock;
  readonly #maxChars: number | undefined;
  readonly #homeAccountId: string | undefined;
  readonly #memberAccounts: ReadonlySet<string>;
  readonly #assumed: string[] = [];

  constructor(
    options: {
      readonly clock?: Clock;
      readonly maxPolicyChars?: number;
      /** The enforcer's own account; unset: every role is in one account. */
      readonly homeAccountId?: string;
      /** Accounts whose enforcement role the enforcer may assume (template-member.yaml deployed). */
      readonly memberAccounts?: Iterable<string>;
    } = {},
  ) {
    this.#clock = options.clock ?? { now: () => new Date() };
    this.#maxChars = options.maxPolicyChars;
    this.#homeAccountId = options.homeAccountId;
    this.#memberAccounts = new Set(options.memberAccounts ?? []);
  }

  async denySession(input: {
    readonly roleArn: string;
    readonly sessionId: string;
    readonly until: string;
  }): Promise<{ readonly alreadyDenied: boolean }> {
    const accountId = this.#accountOf(input.roleArn);
    // The same choice the IAM adapter makes (src/adapters/cross-account-iam.ts): own credentials at home,
    // the member account's enforcement role elsewhere.
    const credentials =
      this.#homeAccountId === undefined || accountId === this.#homeAccountId
        ? { accountId, via: 'own' as const }
        : this.#assume(accountId);
    return this.#write(credentials, input);
  }

  /** Account ids whose enforcement role was assumed, in order (one per cross-account enforcement). */
  assumedAccounts(): readonly string[] {
    return [...this.#assumed];
  }

  /** Role ARN → the session ids denied on it, every account together. */
  denied(): Record<string, string[]> {
    return Object.fromEntries(
      [...this.#accounts.values()].flatMap((roles) =>
        [...roles].map(([role, entries]) => [role, entries.map((e) => e.sessionId)]),
      ),
    );
  }

  /** Role ARN → the session ids denied on it, in one account only. */
  deniedIn(accountId: string): Record<string, string[]> {
    return Object.fromEntries(
      [...(this.#accounts.get(accountId) ?? [])].map(([role, entries]) => [
        role,
        entries.map((e) => e.sessionId),
      ]),
    );
  }

  /** The SentinelRevokedSessions policy the role would carry in AWS. */
  policyOf(roleArn: string): DenyPolicyDocument {
    return renderDenyPolicy(this.#accounts.get(this.#accountOf(roleArn))?.get(roleArn) ?? []);
  }

  #accountOf(roleArn: string): string {
    const parsed = parseRoleArn(roleArn);
    if (!parsed) throw new InvalidInputError(`not an IAM role ARN: ${roleArn}`);
    return this.#homeAccountId === undefined ? '*' : parsed.accountId;
  }

  /** sts:AssumeRole of the member account's enforcement role: refused where none is deployed. */
  #assume(accountId: string): LocalCredentials {
    if (!this.#memberAccounts.has(accountId)) {
      throw new LocalAccessDeniedError(
        `no enforcement role in account ${accountId} trusts the enforcer (template-member.yaml not deployed)`,
      );
    }
    this.#assumed.push(accountId);
    return { accountId, via: 'assumed' };
  }

  /** iam:PutRolePolicy with `credentials`: only on a role of their own account. */
  #write(
    credentials: LocalCredentials,
    input: { readonly roleArn: string; readonly sessionId: string; readonly until: string },
  ): { readonly alreadyDenied: boolean } {
    const accountId = this.#accountOf(input.roleArn);
    if (credentials.accountId !== accountId) {
      throw new LocalAccessDeniedError(
        `credentials of account ${credentials.accountId} cannot write a policy on ${input.roleArn}`,
      );
    }
    const roles = this.#accounts.get(accountId) ?? new Map<string, readonly DenyEntry[]>();
    this.#accounts.set(accountId, roles);
    const next = nextDenyList(
      roles.get(input.roleArn) ?? [],
      { sessionId: input.sessionId, until: input.until },
      { now: this.#clock.now(), ...(this.#maxChars === undefined ? {} : { maxChars: this.#maxChars }) },
    );
    roles.set(input.roleArn, next.entries);
    return { alreadyDenied: next.alreadyDenied };
  }
}
