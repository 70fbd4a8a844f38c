/**
 * The reconciler reaches the enforcer by invoking the deployed enforcer function synchronously, rather than
 * writing IAM itself: one function writes deny policies, re-reads and checks every row it is asked about,
 * and is the only principal the member accounts' enforcement role trusts (docs/design.md, "Reconciler").
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DENY_MODES, type DenyMode } from '../domain/deny-list.js';
import { isRecord } from '../domain/json.js';
import type { EnforcementInput, EnforcementResult, RevocationEnforcement } from '../ports.js';

/** The enforcer function answered with an error (a refusal, a fault) or with something that is not a result. */
export class EnforcerInvocationError extends Error {
  override readonly name = 'EnforcerInvocationError';
  /** The enforcer's own error name (EnforcementRefusedError, DenyListContentionError, …), when it said. */
  readonly errorType: string | undefined;

  constructor(message: string, errorType?: string) {
    super(message);
    this.errorType = errorType;
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  isRecord(value) ? value : undefined;

const parsePayload = (payload: Uint8Array | undefined): unknown => {
  const text = payload === undefined ? '' : decoder.decode(payload);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

const isDenyMode = (value: unknown): value is DenyMode => DENY_MODES.some((mode) => mode === value);

/** The function's answer checked field by field: a result that does not say what was denied is an error. */
const parseResult = (value: unknown, input: EnforcementInput): EnforcementResult => {
  const record = asRecord(value);
  const { sessionId, roleArn, deniedUntil, alreadyDenied, mode, tokenIssuedBefore, rowProblem } =
    record ?? {};
  if (
    sessionId !== input.sessionId ||
    typeof roleArn !== 'string' ||
    typeof deniedUntil !== 'string' ||
    typeof alreadyDenied !== 'boolean' ||
    !isDenyMode(mode) ||
    (tokenIssuedBefore !== undefined && typeof tokenIssuedBefore !== 'string') ||
    (rowProblem !== undefined && typeof rowProblem !== 'string')
  ) {
    throw new EnforcerInvocationError(
      `the enforcer answered something that is not a result for ${input.sessionId}: ${JSON.stringify(value).slice(0, 300)}`,
    );
  }
  return {
    sessionId,
    roleArn,
    deniedUntil,
    alreadyDenied,
    mode,
    ...(tokenIssuedBefore === undefined ? {} : { tokenIssuedBefore }),
    ...(rowProblem === undefined ? {} : { rowProblem }),
  };
};

export const lambdaRevocationEnforcer =
  (deps: { readonly lambda: LambdaClient; readonly functionName: string }): RevocationEnforcement =>
  async (input) => {
    const response = await deps.lambda.send(
      new InvokeCommand({
        FunctionName: deps.functionName,
        InvocationType: 'RequestResponse',
        Payload: encoder.encode(JSON.stringify(input)),
      }),
    );
    const payload = parsePayload(response.Payload);
    if (response.FunctionError !== undefined) {
      // Lambda's error payload: {errorType, errorMessage, trace}; the trace stays in the enforcer's log.
      const error = asRecord(payload);
      const errorType = typeof error?.errorType === 'string' ? error.errorType : undefined;
      const errorMessage = typeof error?.errorMessage === 'string' ? error.errorMessage : String(payload);
      throw new EnforcerInvocationError(
        `the enforcer failed for ${input.sessionId}: ${errorType ?? response.FunctionError}: ${errorMessage}`,
        errorType,
      );
    }
    return parseResult(payload, input);
  };
