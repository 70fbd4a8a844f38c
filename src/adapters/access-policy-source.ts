/**
 * The access policy, read through a cache: in AWS from an SSM parameter (Powertools Parameters), locally and
 * in tests from a file. A policy is parsed once per text it was read as; a failure (unreadable, invalid) is
 * remembered for the same max age, so it is logged once per cache period, not on every request, and every
 * vend in that period is denied (fail closed).
 */
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { AccessPolicy } from '../domain/access-policy.js';
import { parsePolicyJson } from '../domain/access-policy-document.js';
import { describeError } from '../domain/errors.js';
import { type AccessPolicySource, type Clock, PolicyUnavailableError } from '../ports.js';

export const DEFAULT_POLICY_MAX_AGE_SECONDS = 60;

export interface PolicyLog {
  /** Once per cache period while no valid policy can be read. */
  unavailable(message: string, attributes: Readonly<Record<string, unknown>>): void;
  /** A (new) policy was loaded. */
  loaded(attributes: Readonly<Record<string, unknown>>): void;
}

/** The PolicyLog every deployment uses: errors while no valid policy can be read, info on each load. */
export const loggerPolicyLog = (logger: {
  error(message: string, attributes: Record<string, unknown>): void;
  info(message: string, attributes: Record<string, unknown>): void;
}): PolicyLog => ({
  unavailable: (message, attributes) => logger.error(message, { ...attributes }),
  loaded: (attributes) => logger.info('access policy loaded', { ...attributes }),
});

type Cached =
  | { readonly ok: true; readonly policy: AccessPolicy; readonly text: string; readonly until: number }
  | { readonly ok: false; readonly error: PolicyUnavailableError; readonly until: number };

export class CachedPolicySource implements AccessPolicySource {
  readonly #read: () => Promise<string>;
  readonly #parse: (text: string) => AccessPolicy;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  readonly #log: PolicyLog;
  readonly #where: string;
  #cached: Cached | undefined;
  #reading: Promise<Cached> | undefined;

  constructor(options: {
    /** Fetches the document's text; may throw. */
    readonly read: () => Promise<string>;
    readonly parse: (text: string) => AccessPolicy;
    readonly clock: Clock;
    readonly maxAgeSeconds?: number;
    readonly log: PolicyLog;
    /** Where the policy lives, for messages (a parameter name, a file path). */
    readonly where: string;
  }) {
    this.#read = options.read;
    this.#parse = options.parse;
    this.#clock = options.clock;
    this.#maxAgeMs = (options.maxAgeSeconds ?? DEFAULT_POLICY_MAX_AGE_SECONDS) * 1000;
    this.#log = options.log;
    this.#where = options.where;
  }

  async current(): Promise<AccessPolicy> {
    const now = this.#clock.now().getTime();
    let cached = this.#cached;
    if (cached === undefined || now >= cached.until) {
      // Concurrent requests of one container share one read.
      this.#reading ??= this.#load(now).finally(() => {
        this.#reading = undefined;
      });
      cached = await this.#reading;
    }
    if (!cached.ok) throw cached.error;
    return cached.policy;
  }

  async #load(now: number): Promise<Cached> {
    const until = now + this.#maxAgeMs;
    let text: string;
    try {
      text = await this.#read();
    } catch (error) {
      return this.#fail(until, `access policy ${this.#where} could not be read`, describeError(error));
    }
    const previous = this.#cached;
    if (previous?.ok && previous.text === text) {
      this.#cached = { ...previous, until };
      return this.#cached;
    }
    try {
      const policy = this.#parse(text);
      this.#cached = { ok: true, policy, text, until };
      this.#log.loaded({
        where: this.#where,
        policyVersion: String(policy.version),
        rules: policy.rules.length,
      });
      return this.#cached;
    } catch (error) {
      const problems = (error as { problems?: unknown }).problems;
      return this.#fail(until, `access policy ${this.#where} is invalid`, {
        ...describeError(error),
        ...(Array.isArray(problems) ? { problems } : {}),
      });
    }
  }

  #fail(until: number, message: string, attributes: Readonly<Record<string, unknown>>): Cached {
    this.#log.unavailable(`${message}; every vend is denied until a valid policy is read`, attributes);
    this.#cached = { ok: false, error: new PolicyUnavailableError(message), until };
    return this.#cached;
  }
}

/**
 * Reads the policy's text from an SSM parameter (String or SecureString) with Powertools Parameters. The
 * loader above is the one cache: Powertools' own is bypassed (`forceFetch`), or the two would stack and an
 * edit could take twice the max age to apply.
 */
export const ssmPolicyReader =
  (provider: SSMProvider, parameterName: string): (() => Promise<string>) =>
  async () => {
    const value = await provider.get(parameterName, { forceFetch: true, decrypt: true });
    if (typeof value !== 'string') throw new Error(`SSM parameter ${parameterName} has no value`);
    return value;
  };

/** The policy source of a deployed function: the stack's SSM parameter (JSON), cached for `maxAgeSeconds`. */
export const ssmPolicySource = (options: {
  readonly ssm: SSMProvider;
  readonly parameterName: string;
  readonly maxAgeSeconds: number;
  readonly clock: Clock;
  readonly logger: Parameters<typeof loggerPolicyLog>[0];
}): CachedPolicySource =>
  new CachedPolicySource({
    read: ssmPolicyReader(options.ssm, options.parameterName),
    parse: (text) => parsePolicyJson(text, `SSM parameter ${options.parameterName}`),
    clock: options.clock,
    maxAgeSeconds: options.maxAgeSeconds,
    where: options.parameterName,
    log: loggerPolicyLog(options.logger),
  });
