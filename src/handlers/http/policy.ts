/** The access policy as both APIs read it per request. */
import type { AccessPolicy } from '../../domain/access-policy.js';
import { type AccessPolicySource, PolicyUnavailableError } from '../../ports.js';

/** The policy in force, or undefined when none can be read (the loader logged why, once per period). */
export const policyOrUnavailable = async (source: AccessPolicySource): Promise<AccessPolicy | undefined> => {
  try {
    return await source.current();
  } catch (error) {
    if (error instanceof PolicyUnavailableError) return undefined;
    throw error;
  }
};
