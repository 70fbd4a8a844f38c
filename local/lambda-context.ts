/** The Lambda context the local stack hands its handlers, as the runtime would. */
import type { Context } from 'aws-lambda';

/** A context for one invocation of `functionName`, whose time left runs down from `timeoutMs`. */
export const localLambdaContext = (input: {
  readonly functionName: string;
  readonly requestId: string;
  readonly timeoutMs: number;
}): Context => {
  const deadline = Date.now() + input.timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: input.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${input.functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: input.requestId,
    logGroupName: `/aws/lambda/${input.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};
