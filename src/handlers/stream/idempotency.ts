/**
 * Powertools idempotency for the stream consumer: each record's work runs once per stream eventID, so a
 * batch re-delivered after a partial failure neither restarts workflows nor re-publishes (invariant 2).
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { RecordWork } from './consume.js';

/**
 * Stream records live 24 h and the event source mapping retries within that window: remembering a record
 * for 25 h covers every re-delivery Lambda can make.
 */
export const STREAM_RECORD_MEMORY_SECONDS = 25 * 3600;

/** Idempotency keyed on the stream record's eventID (unique per change, identical on re-delivery). */
export const streamIdempotencyConfig = (): IdempotencyConfig =>
  new IdempotencyConfig({
    eventKeyJmesPath: 'eventID',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: STREAM_RECORD_MEMORY_SECONDS,
  });

/** `once` for the consumer: Powertools makeIdempotent over the given persistence layer. */
export const oncePerStreamRecord =
  (persistenceStore: BasePersistenceLayer, config: IdempotencyConfig): ((work: RecordWork) => RecordWork) =>
  (work) =>
    makeIdempotent(work, { persistenceStore, config, keyPrefix: 'lifecycle-consumer' });
