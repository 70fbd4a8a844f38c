/**
 * The profile allowlist (invariant 4): a caller names a profile, the role and the limits come from here.
 * Parsed once at init from the PROFILES environment variable; anything unexpected is refused.
 */

import { isRoleArn } from '../domain/arn.js';
import {
  CREDENTIAL_SAFETY_MARGIN_SECONDS,
  MIN_SERVABLE_IDLE_SECONDS,
  type SessionPolicy,
  STS_MIN_DURATION_SECONDS,
  STS_ROLE_CHAINING_MAX_DURATION_SECONDS,
  validatePolicy,
} from '../domain/durations.js';
import { InvalidInputError } from '../domain/errors.js';
import { isRecord } from '../domain/json.js';

export interface Profile {
  readonly name: string;
  readonly roleArn: string;
  /** Upper bound of one credential's DurationSeconds for this profile (≤ 3600: we assume roles by chaining). */
  readonly maxDurationSeconds: number;
  readonly policy: SessionPolicy;
}

export type Profiles = ReadonlyMap<string, Profile>;

export const PROFILE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const PROFILE_KEYS = ['roleArn', 'maxDurationSeconds', 'idleTimeoutSeconds', 'maxLifetimeSeconds'] as const;

const wholeSeconds = (where: string, value: unknown): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidInputError(
      `${where} must be a positive whole number of seconds, got ${JSON.stringify(value)}`,
    );
  }
  return value;
};

/** `{"dev": {"roleArn": "...", "maxDurationSeconds": 3600, "idleTimeoutSeconds": 3600, "maxLifetimeSeconds": 43200}}` */
export const parseProfiles = (value: unknown): Profiles => {
  if (!isRecord(value)) throw new InvalidInputError('expected an object of profile name → profile');
  const profiles = new Map<string, Profile>();
  for (const [name, raw] of Object.entries(value)) {
    if (!PROFILE_NAME.test(name)) {
      throw new InvalidInputError(`profile name ${JSON.stringify(name)} must match ${PROFILE_NAME.source}`);
    }
    if (!isRecord(raw)) throw new InvalidInputError(`profile "${name}" must be an object`);
    const unknown = Object.keys(raw).filter((key) => !(PROFILE_KEYS as readonly string[]).includes(key));
    if (unknown.length > 0) {
      throw new InvalidInputError(`profile "${name}" has unknown field(s) ${unknown.join(', ')}`);
    }
    const { roleArn } = raw;
    if (typeof roleArn !== 'string' || !isRoleArn(roleArn)) {
      throw new InvalidInputError(
        `profile "${name}".roleArn must be an IAM role ARN, got ${JSON.stringify(roleArn)}`,
      );
    }
    const maxDurationSeconds = wholeSeconds(`profile "${name}".maxDurationSeconds`, raw.maxDurationSeconds);
    if (maxDurationSeconds < STS_MIN_DURATION_SECONDS) {
      throw new InvalidInputError(
        `profile "${name}".maxDurationSeconds must be within [${STS_MIN_DURATION_SECONDS}, ${STS_ROLE_CHAINING_MAX_DURATION_SECONDS}], got ${maxDurationSeconds}`,
      );
    }
    // Refused at init rather than on every create: STS would answer each AssumeRole with an error (502).
    if (maxDurationSeconds > STS_ROLE_CHAINING_MAX_DURATION_SECONDS) {
      throw new InvalidInputError(
        `profile "${name}".maxDurationSeconds is ${maxDurationSeconds}, above ${STS_ROLE_CHAINING_MAX_DURATION_SECONDS}: ` +
          'the vend Lambda assumes roles with its own role credentials (role chaining) and STS refuses ' +
          `DurationSeconds over ${STS_ROLE_CHAINING_MAX_DURATION_SECONDS} for a chained role; set at most ` +
          `${STS_ROLE_CHAINING_MAX_DURATION_SECONDS} in PROFILES`,
      );
    }
    let policy: SessionPolicy;
    try {
      policy = validatePolicy({
        idleTimeoutSeconds: wholeSeconds(`profile "${name}".idleTimeoutSeconds`, raw.idleTimeoutSeconds),
        maxLifetimeSeconds: wholeSeconds(`profile "${name}".maxLifetimeSeconds`, raw.maxLifetimeSeconds),
      });
    } catch (error) {
      throw new InvalidInputError(`profile "${name}": ${(error as Error).message}`);
    }
    if (policy.idleTimeoutSeconds < MIN_SERVABLE_IDLE_SECONDS) {
      throw new InvalidInputError(
        `profile "${name}".idleTimeoutSeconds is ${policy.idleTimeoutSeconds}, below ${MIN_SERVABLE_IDLE_SECONDS}: ` +
          `a new session must fit the shortest STS credential (${STS_MIN_DURATION_SECONDS} s) plus the ` +
          `${CREDENTIAL_SAFETY_MARGIN_SECONDS} s safety margin, or every create is refused; raise it in PROFILES`,
      );
    }
    profiles.set(name, { name, roleArn, maxDurationSeconds, policy });
  }
  if (profiles.size === 0) throw new InvalidInputError('at least one profile is required');
  return profiles;
};
