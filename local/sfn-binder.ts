/**
 * Runs statemachines/*.asl.json in a real ASL interpreter (npm `aws-local-stepfunctions`). The interpreter
 * has no service integrations, so this one binder maps every `arn:aws:states:::<service>:<action>` Task to a
 * local implementation and re-throws service errors under Step Functions' names (`DynamoDB.<Exception>` for
 * the optimized integrations, `DynamoDb.<Exception>` for the AWS SDK ones: PascalCase service names), so
 * Retry and Catch behave as they would in AWS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { loadTemplate, REPO_ROOT, resourceOf, type Template } from './template.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type TaskHandler = (input: Json) => Promise<Json>;

export interface PutEventsEntry {
  readonly EventBusName?: string;
  readonly Source: string;
  readonly DetailType: string;
  /** Step Functions serialises an object Detail to a JSON string before calling PutEvents. */
  readonly Detail: string;
  readonly Resources?: string[];
}

export interface PutEventsOutput {
  readonly FailedEntryCount: number;
  readonly Entries: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

/** The local services a definition's Tasks can reach. */
export interface LocalServices {
  readonly dynamodb?: DynamoDBClient;
  readonly putEvents?: (entries: readonly PutEventsEntry[]) => Promise<PutEventsOutput>;
  readonly snsPublish?: (input: {
    TopicArn: string;
    Message: string;
    Subject?: string;
  }) => Promise<{ MessageId: string }>;
  /** Local Lambda functions by the FunctionName a definition invokes (ARN or name, as substituted). */
  readonly lambdas?: Readonly<Record<string, LocalLambda>>;
  /** What an `http:invoke` Task does; default a real HTTP request (e.g. to local/webhook-receiver.ts). */
  readonly httpInvoke?: (request: HttpInvokeRequest) => Promise<HttpInvokeResponse>;
}

/** An HTTP Task's call after the connection is applied (locally there is no connection to apply). */
export interface HttpInvokeRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The RequestBody, serialised as Step Functions sends a JSON body. */
  readonly body?: string;
}

export interface HttpInvokeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
}

/** The endpoint answered outside 2xx: Step Functions names the error after the status code. */
export class HttpStatusError extends Error {
  constructor(status: number, body: string) {
    super(`HTTP ${status}: ${body.slice(0, 200)}`);
    this.name = `States.Http.StatusCode.${status}`;
  }
}

/** The endpoint could not be reached at all (DNS, refused, reset, timeout). */
export class HttpSocketError extends Error {
  override readonly name = 'States.Http.Socket';
}

const fetchHttp = async (request: HttpInvokeRequest): Promise<HttpInvokeResponse> => {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new HttpSocketError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  return { status: response.status, statusText: response.statusText, body: await response.text() };
};

/** The HTTP Task's Parameters, as AWS validates them: an https or local http endpoint, a method, a connection. */
const httpRequestOf = (params: Record<string, unknown>): HttpInvokeRequest => {
  const { ApiEndpoint, Method, Authentication, Headers, RequestBody } = params;
  if (typeof ApiEndpoint !== 'string' || !/^https?:\/\//.test(ApiEndpoint)) {
    throw new Error('http:invoke needs ApiEndpoint, an http(s) URL');
  }
  if (typeof Method !== 'string') throw new Error('http:invoke needs Method');
  const connectionArn = (Authentication as { ConnectionArn?: unknown } | undefined)?.ConnectionArn;
  if (typeof connectionArn !== 'string' || connectionArn === '') {
    throw new Error('http:invoke needs Authentication.ConnectionArn (an EventBridge connection)');
  }
  const headers = Object.fromEntries(
    Object.entries((Headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
  );
  return {
    url: ApiEndpoint,
    method: Method,
    // Step Functions sends a JSON body as application/json unless the Task says otherwise.
    headers: Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')
      ? headers
      : { 'content-type': 'application/json', ...headers },
    ...(RequestBody === undefined
      ? {}
      : { body: typeof RequestBody === 'string' ? RequestBody : JSON.stringify(RequestBody) }),
  };
};

/** A local function: the JSON payload in, its JSON result out; a throw is a function error. */
export type LocalLambda = (payload: Json) => Promise<unknown>;

export class UnboundTaskError extends Error {
  override readonly name = 'UnboundTaskError';
}

/** A service error under the name Step Functions gives it (e.g. DynamoDB.ConditionalCheckFailedException). */
export class ServiceTaskError extends Error {
  constructor(service: string, cause: unknown) {
    const name = cause instanceof Error ? cause.name : 'UnknownError';
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = `${service}.${name}`;
  }
}

/** ASL Parameters of an optimized integration are the API's own input shape, passed straight through. */
const asRecord = (input: Json): Record<string, unknown> => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error('task parameters must be an object');
  }
  return input;
};

const withServiceErrors =
  (service: string, call: (params: Record<string, unknown>) => Promise<unknown>): TaskHandler =>
  async (input) => {
    try {
      return JSON.parse(JSON.stringify((await call(asRecord(input))) ?? {})) as Json;
    } catch (error) {
      throw new ServiceTaskError(service, error);
    }
  };

type AttributeMap = Record<string, AttributeValue>;

/** The DynamoDB request as the API takes it; the table and the key (or item) must be there. */
const attributeMap = (params: Record<string, unknown>, field: 'Key' | 'Item'): AttributeMap => {
  const value = params[field];
  if (typeof params.TableName !== 'string' || typeof value !== 'object' || value === null) {
    throw new Error(`DynamoDB task parameters need TableName and ${field}`);
  }
  return value as AttributeMap;
};
const keyed = (params: Record<string, unknown>) => ({
  ...params,
  TableName: String(params.TableName),
  Key: attributeMap(params, 'Key'),
});

const need = <T>(value: T | undefined, what: string, state: string): T => {
  if (value === undefined)
    throw new UnboundTaskError(`Task ${state} needs ${what}, which this local run did not provide`);
  return value;
};

/** `$metadata` is SDK bookkeeping that Step Functions does not return. */
const sdkOutput = async <T extends { $metadata?: unknown }>(
  promise: Promise<T>,
): Promise<Omit<T, '$metadata'>> => {
  const { $metadata: _ignored, ...rest } = await promise;
  return rest;
};

const bindTask = (state: string, resource: string, services: LocalServices): TaskHandler => {
  const ddb = () => need(services.dynamodb, 'DynamoDB', state);
  switch (resource) {
    case 'arn:aws:states:::dynamodb:getItem':
      return withServiceErrors('DynamoDB', (p) => sdkOutput(ddb().send(new GetItemCommand(keyed(p)))));
    case 'arn:aws:states:::dynamodb:putItem':
      return withServiceErrors('DynamoDB', (p) =>
        sdkOutput(
          ddb().send(
            new PutItemCommand({ ...p, TableName: String(p.TableName), Item: attributeMap(p, 'Item') }),
          ),
        ),
      );
    case 'arn:aws:states:::dynamodb:updateItem':
      return withServiceErrors('DynamoDB', (p) => sdkOutput(ddb().send(new UpdateItemCommand(keyed(p)))));
    case 'arn:aws:states:::dynamodb:deleteItem':
      return withServiceErrors('DynamoDB', (p) => sdkOutput(ddb().send(new DeleteItemCommand(keyed(p)))));
    // AWS SDK integrations: the API's own request and response, errors named DynamoDb.<Exception>.
    case 'arn:aws:states:::aws-sdk:dynamodb:query':
      return withServiceErrors('DynamoDb', (p) => {
        if (typeof p.TableName !== 'string') throw new Error('DynamoDB Query needs TableName');
        return sdkOutput(ddb().send(new QueryCommand({ ...p, TableName: p.TableName })));
      });
    case 'arn:aws:states:::aws-sdk:dynamodb:updateItem':
      return withServiceErrors('DynamoDb', (p) => sdkOutput(ddb().send(new UpdateItemCommand(keyed(p)))));
    case 'arn:aws:states:::events:putEvents': {
      const putEvents = need(services.putEvents, 'EventBridge', state);
      return async (input) => {
        const entries = (asRecord(input).Entries as Record<string, unknown>[] | undefined) ?? [];
        const output = await withServiceErrors('EventBridge', () =>
          putEvents(
            entries.map((e) => ({
              ...(e as Partial<PutEventsEntry> as PutEventsEntry),
              Detail: typeof e.Detail === 'string' ? e.Detail : JSON.stringify(e.Detail),
            })),
          ),
        )(input);
        // Step Functions' PutEvents integration fails the task when any entry is rejected, rather than
        // returning FailedEntryCount > 0 as the API does.
        const failed =
          typeof output === 'object' && output !== null && !Array.isArray(output)
            ? output.FailedEntryCount
            : 0;
        if (typeof failed === 'number' && failed > 0) {
          throw Object.assign(new Error(`${failed} PutEvents entries were rejected`), {
            name: 'EventBridge.FailedEntry',
          });
        }
        return output;
      };
    }
    case 'arn:aws:states:::sns:publish': {
      const publish = need(services.snsPublish, 'SNS', state);
      return withServiceErrors('SNS', (p) =>
        publish({
          TopicArn: String(p.TopicArn),
          Message: String(p.Message),
          ...(typeof p.Subject === 'string' ? { Subject: p.Subject } : {}),
        }),
      );
    }
    case 'arn:aws:states:::http:invoke': {
      const invoke = services.httpInvoke ?? fetchHttp;
      // Errors keep their own names (States.Http.StatusCode.<n>, States.Http.Socket), as in AWS.
      return async (input) => {
        const response = await invoke(httpRequestOf(asRecord(input)));
        if (response.status < 200 || response.status > 299) {
          throw new HttpStatusError(response.status, response.body);
        }
        let body: Json = response.body;
        try {
          body = JSON.parse(response.body) as Json;
        } catch {
          // Not JSON (Slack answers "ok"): Step Functions returns it as text.
        }
        return { StatusCode: response.status, StatusText: response.statusText, ResponseBody: body };
      };
    }
    case 'arn:aws:states:::lambda:invoke':
      // Looked up per call: the function is named by the (substituted) Parameters, not by the resource.
      return async (input) => {
        const params = asRecord(input);
        const name = String(params.FunctionName);
        const fn = services.lambdas?.[name];
        if (!fn) {
          throw new ServiceTaskError(
            'Lambda',
            Object.assign(new Error(`Function not found: ${name}`), { name: 'ResourceNotFoundException' }),
          );
        }
        const payload = JSON.parse(JSON.stringify(params.Payload ?? {})) as Json;
        let result: unknown;
        try {
          result = await fn(payload);
        } catch (error) {
          // Step Functions reports a function error under the function's errorType, the Cause being the
          // Lambda error object as JSON.
          const errorType = error instanceof Error ? error.name : 'Error';
          const errorMessage = error instanceof Error ? error.message : String(error);
          throw Object.assign(new Error(JSON.stringify({ errorType, errorMessage })), { name: errorType });
        }
        return {
          ExecutedVersion: '$LATEST',
          Payload: JSON.parse(JSON.stringify(result ?? null)) as Json,
          StatusCode: 200,
        };
      };
    default:
      throw new UnboundTaskError(`Task ${state} uses ${resource}, which has no local binding`);
  }
};

interface StatesBlock {
  readonly States: Record<string, Record<string, unknown>>;
}

/** Every Task of a definition, nested Parallel branches and Map processors included, bound by state name. */
export const bindTasks = (
  definition: StatesBlock,
  services: LocalServices,
  onResult?: (stateName: string, result: Json) => void,
): Record<string, TaskHandler> => {
  const handlers: Record<string, TaskHandler> = {};
  const visit = (block: StatesBlock): void => {
    for (const [name, state] of Object.entries(block.States)) {
      if (state.Type === 'Task') {
        if (handlers[name])
          throw new UnboundTaskError(`Task name ${name} is used twice; local binding needs unique names`);
        const handler = bindTask(name, String(state.Resource), services);
        handlers[name] = onResult
          ? async (input) => {
              const result = await handler(input);
              onResult(name, result);
              return result;
            }
          : handler;
      }
      for (const branch of (state.Branches as StatesBlock[] | undefined) ?? []) visit(branch);
      const processor = (state.ItemProcessor ?? state.Iterator) as StatesBlock | undefined;
      if (processor) visit(processor);
    }
  };
  visit(definition);
  return handlers;
};

export const SUBSTITUTION = /\$\{([A-Za-z0-9_]+)\}/g;

/** The ASL of an AWS::Serverless::StateMachine as template.yaml declares it, with ${…} still in place. */
export const rawDefinitionOf = (logicalId: string, template: Template = loadTemplate()): string => {
  const props = resourceOf(template, logicalId, 'AWS::Serverless::StateMachine').Properties ?? {};
  const uri = props.DefinitionUri;
  if (typeof uri !== 'string') throw new Error(`${logicalId} has no local DefinitionUri`);
  return readFileSync(join(REPO_ROOT, uri), 'utf8');
};

/**
 * The literal DefinitionSubstitutions of a state machine in template.yaml (settings such as page sizes),
 * so the local run uses the template's values; one that is not a literal (a !Ref …) is an error.
 */
export const templateSubstitutions = (
  logicalId: string,
  names: readonly string[],
  template: Template = loadTemplate(),
): Record<string, string> => {
  const props = resourceOf(template, logicalId, 'AWS::Serverless::StateMachine').Properties ?? {};
  const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    names.map((name) => {
      const value = substitutions[name];
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new Error(`${logicalId} has no literal DefinitionSubstitution ${name}`);
      }
      return [name, String(value)];
    }),
  );
};

/** Fills every ${Name} from `values`; a name without a value is an error, not an empty string. */
export const substitute = (
  asl: string,
  values: Record<string, string>,
): StatesBlock & Record<string, unknown> => {
  const text = asl.replace(SUBSTITUTION, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no local value for \${${name}}`);
    return value;
  });
  return JSON.parse(text) as StatesBlock & Record<string, unknown>;
};

/**
 * Validated machines by definition object: validating a definition takes a quarter of a second, and the
 * local stack runs the same few definitions for every session and every minute's sweep.
 */
const machines = new WeakMap<object, StateMachine>();

export interface LocalExecution {
  readonly result: Promise<Json>;
  abort(): void;
  /**
   * The states entered so far, in order, Map iterations and Parallel branches included: each one is a
   * state transition as Step Functions bills a Standard workflow.
   */
  readonly statesEntered: readonly string[];
}

/**
 * Starts one execution. `waitMs` replaces a Wait state's duration (time-scaling for demos and tests); it is
 * asked each time the state is entered, so a Wait that loops can last a different time on each pass.
 * `retryMs` replaces retry back-offs; `onTaskResult` sees each Task's raw result.
 */
export const runLocalStateMachine = (input: {
  readonly definition: StatesBlock & Record<string, unknown>;
  readonly services: LocalServices;
  readonly executionInput: Json;
  readonly waitMs?: (stateName: string) => number | undefined;
  readonly retryMs?: number;
  readonly onTaskResult?: (stateName: string, result: Json) => void;
  /**
   * What `$$.State.EnteredTime` reads (ISO-8601), e.g. the start on a time-scaled stack's clock. The
   * interpreter does not fill `$$.State` itself, and stamps `$$.Execution.StartTime` with the wall clock,
   * so definitions read the time from the EnteredTime of their first state, and this supplies it.
   */
  readonly enteredTime?: string;
}): LocalExecution => {
  let machine = machines.get(input.definition);
  if (machine === undefined) {
    machine = new StateMachine(input.definition as never, { validationOptions: { checkArn: true } });
    machines.set(input.definition, machine);
  }
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  const { waitMs } = input;
  const collect = (block: StatesBlock): void => {
    for (const [name, state] of Object.entries(block.States)) {
      // The interpreter reads its override when the Wait starts; undefined leaves the state's own duration.
      if (state.Type === 'Wait' && waitMs)
        Object.defineProperty(waitTimeOverrides, name, { enumerable: true, get: () => waitMs(name) });
      if (input.retryMs !== undefined && Array.isArray(state.Retry))
        retryIntervalOverrides[name] = input.retryMs;
      for (const branch of (state.Branches as StatesBlock[] | undefined) ?? []) collect(branch);
      const processor = (state.ItemProcessor ?? state.Iterator) as StatesBlock | undefined;
      if (processor) collect(processor);
    }
  };
  collect(input.definition);
  const execution = machine.run(input.executionInput as never, {
    overrides: {
      taskResourceLocalHandlers: bindTasks(input.definition, input.services, input.onTaskResult) as never,
      waitTimeOverrides,
      retryIntervalOverrides,
    },
    ...(input.enteredTime === undefined ? {} : { context: { State: { EnteredTime: input.enteredTime } } }),
  });
  const statesEntered: string[] = [];
  void (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') statesEntered.push(event.state.name);
    }
  })();
  return { result: execution.result as Promise<Json>, abort: execution.abort, statesEntered };
};
