/**
 * The HTTP API (payload format 2.0) event as the vend handler reads it. Everything is optional on purpose:
 * the handler must answer a clean 4xx, not crash, when API Gateway or a test sends less than expected.
 */
export interface HttpApiEvent {
  readonly version?: string;
  readonly routeKey?: string;
  readonly rawPath?: string;
  /** The query string as sent (payload 2.0); repeated parameters are visible only here. */
  readonly rawQueryString?: string;
  /** Parsed by API Gateway; a repeated parameter's values are joined with commas. */
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly pathParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: {
    readonly requestId?: string;
    readonly routeKey?: string;
    readonly http?: { readonly method?: string; readonly path?: string; readonly sourceIp?: string };
    readonly authorizer?: {
      readonly iam?: {
        readonly accessKey?: string | null;
        readonly accountId?: string | null;
        readonly callerId?: string | null;
        /** Non-null for callers through a Cognito identity pool (refused: the ARN names no person). */
        readonly cognitoIdentity?: unknown;
        readonly principalOrgId?: string | null;
        readonly userArn?: string | null;
        readonly userId?: string | null;
      } | null;
    } | null;
  } | null;
}

export interface HttpResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export const CREATE_ROUTE = 'POST /v1/sessions';
export const REFRESH_ROUTE = 'POST /v1/sessions/{sessionId}/credentials';

/** The operator API, on the same HTTP API and authorizer (src/handlers/operator.ts). */
export const LIST_ROUTE = 'GET /v1/sessions';
export const SHOW_ROUTE = 'GET /v1/sessions/{sessionId}';
export const REVOKE_ROUTE = 'POST /v1/sessions/{sessionId}/revoke';
export const REVOKE_USER_ROUTE = 'POST /v1/users/{user}/revoke';
export const OPERATOR_ROUTES = [LIST_ROUTE, SHOW_ROUTE, REVOKE_ROUTE, REVOKE_USER_ROUTE] as const;
export const VEND_ROUTES = [CREATE_ROUTE, REFRESH_ROUTE] as const;
