/**
 * LOCAL ONLY. STS cannot run locally, so the local stack mints credentials that have the exact shape of real
 * ones and are unmistakably fake: AccessKeyId `ASIAOFFLINEFAKE…`, secret and token prefixed `OFFLINE-FAKE`.
 * No AWS service accepts them. Making one logs a loud warning saying so, once: a warning on every vend would
 * only teach people to skip it.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../src/domain/clock.js';
import { systemClock } from '../src/domain/clock.js';
import type { CredentialIssuer, CredentialRequest, IssuedCredentials } from '../src/ports.js';

export const OFFLINE_ACCESS_KEY_PREFIX = 'ASIAOFFLINEFAKE';

const upperAlnum = (length: number): string =>
  Array.from(randomBytes(length), (byte) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.charAt(byte % 32)).join('');

export const OFFLINE_ISSUER_WARNING =
  '!!! OFFLINE CREDENTIAL ISSUER: these are FAKE credentials for local development; no AWS service accepts them. Never deploy the offline issuer. !!!';

export class OfflineCredentialIssuer implements CredentialIssuer {
  readonly #clock: Clock;

  constructor(
    options: {
      readonly clock?: Clock;
      readonly warn?: (message: string, attributes: Record<string, unknown>) => void;
    } = {},
  ) {
    this.#clock = options.clock ?? systemClock;
    (options.warn ?? ((message) => console.warn(message)))(OFFLINE_ISSUER_WARNING, {
      accessKeyPrefix: OFFLINE_ACCESS_KEY_PREFIX,
    });
  }

  async issue(request: CredentialRequest): Promise<IssuedCredentials> {
    const expiration = new Date(this.#clock.now().getTime() + request.durationSeconds * 1000);
    return {
      // 20 characters like a real temporary key id, 15 of them the marker.
      AccessKeyId: `${OFFLINE_ACCESS_KEY_PREFIX}${upperAlnum(5)}`,
      SecretAccessKey: `OFFLINE-FAKE-${randomBytes(20).toString('base64url')}`,
      Token: `OFFLINE-FAKE-TOKEN-${Buffer.from(JSON.stringify({ sessionId: request.sessionId, roleArn: request.roleArn })).toString('base64url')}`,
      Expiration: expiration.toISOString(),
    };
  }
}
