/** The one deny/allow branch every vend path takes when the Sessions table cannot be reached. */
import { describe, expect, it } from 'vitest';
import { SessionAlreadyExistsError } from '../../../src/domain/errors.js';
import { onStoreFailure } from '../../../src/usecases/store-failure.js';
import { RecordingTelemetry } from '../../support/vend-api.js';

const unreachable = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
const situation = { doing: 'on refresh', allowing: 'vending from the last known state' };

describe('onStoreFailure', () => {
  it('deny: denies, counts StoreFailureDenied once and logs an error naming the switch', () => {
    const telemetry = new RecordingTelemetry();
    expect(onStoreFailure({ storeFailure: 'deny', telemetry }, unreachable, situation)).toBe('deny');
    expect(Object.fromEntries(telemetry.counts)).toEqual({ StoreFailureDenied: 1 });
    expect(telemetry.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'session store unreachable on refresh; denied (SESSION_STORE_FAILURE=deny)',
      }),
    );
  });

  it('allow: allows, counts StoreFailureAllowed once and says what it goes on to do', () => {
    const telemetry = new RecordingTelemetry();
    expect(onStoreFailure({ storeFailure: 'allow', telemetry }, unreachable, situation)).toBe('allow');
    expect(Object.fromEntries(telemetry.counts)).toEqual({ StoreFailureAllowed: 1 });
    expect(telemetry.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message:
          'session store unreachable on refresh; vending from the last known state (SESSION_STORE_FAILURE=allow)',
      }),
    );
  });

  it('allow, but this request cannot be served: denied, and the log says why', () => {
    const telemetry = new RecordingTelemetry();
    const decision = onStoreFailure({ storeFailure: 'allow', telemetry }, unreachable, {
      ...situation,
      cannotAllow: 'the session is not known here',
    });
    expect(decision).toBe('deny');
    expect(Object.fromEntries(telemetry.counts)).toEqual({ StoreFailureDenied: 1 });
  });

  it('a domain error is never "store unreachable": rethrown under either mode, nothing counted', () => {
    for (const storeFailure of ['deny', 'allow'] as const) {
      const telemetry = new RecordingTelemetry();
      const collision = new SessionAlreadyExistsError('id taken');
      expect(() => onStoreFailure({ storeFailure, telemetry }, collision, situation)).toThrow(collision);
      expect(telemetry.counts.size).toBe(0);
    }
  });
});
