/**
 * Powertools idempotency for the stream consumer: each record's work runs once per stream eventID, so a
 * batch re-delivered after a partial failure neither restarts workflows nor re-publishes (invariant 2).
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
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

/**
 * How long a record's in-progress marker holds off another attempt: at once expired. The event source mapping
 * never hands a record to a second invocation while the first still runs (one batch at a time per shard, per
 * partition key with a parallelization factor), so a marker found on a redelivery was left by an attempt
 * that failed, timed out or lost its delete — and the redelivery must take it over, not be refused until the
 * dead invocation's timeout while the stream retries run out. Not 0: Powertools then sets no expiry at all.
 */
export const ABANDONED_IN_PROGRESS_MS = 1;

/** Registers the invocation with the idempotency config, its in-progress markers expiring at once. */
export const registerStreamInvocation = (config: IdempotencyConfig, context: Context): void =>
  config.registerLambdaContext({ ...context, getRemainingTimeInMillis: () => ABANDONED_IN_PROGRESS_MS });
