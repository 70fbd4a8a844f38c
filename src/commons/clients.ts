/**
 * AWS SDK clients, created once per container on first use and shared by every handler that imports them.
 * Factories rather than module-level instances, so a bundle only carries the clients its handler asks for.
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
