/** What a vend use case answers: credentials under a session, or the reason it refused. */
import type { IssuedCredentials } from '../ports.js';

export interface Vended {
  readonly sessionId: string;
  readonly expiresAt: string;
  readonly credentials: IssuedCredentials;
}

export type VendRefusal =
  | { readonly kind: 'UnknownProfile'; readonly profile: string }
  /**
   * Refresh of a session whose profile left the allowlist, or whose profile now maps to another role than
   * the one the session was created with: the stored role is no longer ours to hand out (403 ProfileChanged).
   */
  | { readonly kind: 'ProfileChanged'; readonly profile: string; readonly reason: 'removed' | 'roleChanged' }
  | {
      readonly kind: 'DurationOutOfRange';
      readonly min: number;
      readonly max: number;
      readonly requested: number;
    }
  | { readonly kind: 'SessionNotFound' }
  | { readonly kind: 'NotOwner' }
  | { readonly kind: 'SessionRevoked' }
  | { readonly kind: 'SessionExpired'; readonly expiresAt: string }
  | { readonly kind: 'SessionAtMaxLifetime'; readonly remainingSeconds: number }
  | { readonly kind: 'IssuerDenied' }
  | { readonly kind: 'IssuerThrottled' }
  | { readonly kind: 'IssuerFailed' }
  | { readonly kind: 'StoreUnavailable' }
  /** The session's row cannot be read as a session, so it cannot be shown to be active: denied. */
  | { readonly kind: 'SessionUnverifiable' }
  /** The access policy refused: `rule` is the deny rule's name, or null when no rule matched. */
  | { readonly kind: 'AccessDenied'; readonly rule: string | null; readonly reason: string }
  /** No valid access policy could be read: every vend is denied (fail closed). */
  | { readonly kind: 'PolicyUnavailable' }
  /** A refresh named another profile than its session's. */
  | { readonly kind: 'ProfileMismatch'; readonly profile: string };
