/** Everything the vend use cases may use; each use case takes the `Pick<>` view it needs. */
import type { Clock, CredentialIssuer, EventPublisher, IdGenerator, SessionStore } from '../ports.js';
import type { LastKnownSessions } from './last-known-sessions.js';
import type { StoreFailureMode } from './store-failure.js';
import type { Profiles } from './vend-profiles.js';
import type { VendTelemetry } from './vend-telemetry.js';

export interface VendDeps {
  readonly store: SessionStore;
  readonly issuer: CredentialIssuer;
  readonly publisher: EventPublisher;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly profiles: Profiles;
  readonly storeFailure: StoreFailureMode;
  readonly telemetry: VendTelemetry;
  /** Sessions this container saw active: what SESSION_STORE_FAILURE=allow serves a refresh from. */
  readonly lastKnown?: LastKnownSessions;
  readonly auditRetentionSeconds?: number;
}
