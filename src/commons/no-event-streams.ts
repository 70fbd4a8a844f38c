/**
 * Bundle-time stand-in for `@smithy/core/event-streams` (scripts/build.ts aliases it here). The SDK's HTTP
 * protocols load it lazily, only for event-stream operations (Kinesis SubscribeToShard, Bedrock streaming …);
 * none of the DynamoDB, STS or EventBridge operations we call has one, yet esbuild would inline all of it.
 * Reaching this module means an event-stream operation was called: fail loudly rather than misbehave.
 */
const unsupported = (): never => {
  throw new Error('event streams are not bundled in this Lambda (see scripts/build.ts)');
};

export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}

export const eventStreamSerdeProvider = unsupported;
