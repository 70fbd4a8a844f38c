/**
 * AWS SDK clients, created once per container on first use and shared by every handler that imports them.
 * Factories rather than module-level instances, so a bundle only carries the clients its handler asks for;
 * a client only one handler uses (SFN, IAM, SSM) is built in that handler's module, so no other bundle
 * carries its SDK package (they are not side-effect free, so esbuild would keep an unused import).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Short socket timeouts: a request path must fail (and hit SESSION_STORE_FAILURE or a 503) well within the
 * Lambda timeout instead of waiting on a dead connection. The SDK's standard retry mode (3 attempts, with
 * backoff and throttling handling) stays.
 */
export const sdkClientConfig = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
} as const;

const once = <T>(make: () => T): (() => T) => {
  let made: T | undefined;
  return () => {
    made ??= make();
    return made;
  };
};

export const dynamoDbClient = once(() => new DynamoDBClient(sdkClientConfig));

/** Dates and empty values never reach the table; undefined optional attributes are dropped. */
export const documentClient = once(() =>
  DynamoDBDocumentClient.from(dynamoDbClient(), { marshallOptions: { removeUndefinedValues: true } }),
);

export const stsClient = once(() => new STSClient(sdkClientConfig));

export const eventBridgeClient = once(() => new EventBridgeClient(sdkClientConfig));

/**
 * The vend Lambda's events are the fast path: credentials are already minted when it publishes, the table's
 * stream is the guarantee of audit (invariant 7), and the function has 10 s in all. So its PutEvents get a
 * small budget instead of the defaults (4 publisher attempts × 3 SDK attempts × 3 s timeouts could outlast
 * the Lambda): one SDK attempt with short timeouts, and one publisher retry of what failed.
 */
export const FAST_PATH_SDK_CONFIG = {
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
} as const;

/** EventBridgePublisher retry options of the fast path (total tries per entry, the first included). */
export const FAST_PATH_PUBLISH_RETRY = { maxAttempts: 2, baseDelayMs: 25, maxDelayMs: 100 } as const;

/** The longest the fast path can spend publishing one chunk of events: every try timing out, every backoff at its cap. */
export const fastPathPublishBudgetMs = (): number => {
  const { connectionTimeout, requestTimeout } = FAST_PATH_SDK_CONFIG.requestHandler;
  const tries = FAST_PATH_PUBLISH_RETRY.maxAttempts * FAST_PATH_SDK_CONFIG.maxAttempts;
  return (
    tries * (connectionTimeout + requestTimeout) +
    (FAST_PATH_PUBLISH_RETRY.maxAttempts - 1) * FAST_PATH_PUBLISH_RETRY.maxDelayMs
  );
};

export const fastPathEventBridgeClient = once(() => new EventBridgeClient(FAST_PATH_SDK_CONFIG));
