/**
 * The HTTP API's routes, the functions behind them, the local server and the code's route keys are one
 * list; the operator's role reads only what its routes need.
 */
import { describe, expect, it } from 'vitest';
import { FUNCTION_TIMEOUT_MS, LOCAL_ROUTE_KEYS } from '../../../local/http-api.js';
import { loadTemplate, type TemplateResource } from '../../../local/template.js';
import { OPERATOR_ROUTES, VEND_ROUTES } from '../../../src/handlers/http/event.js';

const template = loadTemplate();
const props = (r: TemplateResource | undefined): Record<string, unknown> => r?.Properties ?? {};

interface HttpApiEventSource {
  readonly Type: string;
  readonly Properties: {
    readonly ApiId: unknown;
    readonly Method: string;
    readonly Path: string;
    readonly PayloadFormatVersion: string;
  };
}

/** Route keys (`METHOD /path`) of a function's HttpApi events on the VendHttpApi. */
const routesOf = (functionId: string): string[] =>
  Object.values((props(template.Resources[functionId]).Events ?? {}) as Record<string, HttpApiEventSource>)
    .filter((event) => event.Type === 'HttpApi')
    .map((event) => {
      expect(event.Properties.ApiId).toEqual({ Ref: 'VendHttpApi' });
      expect(event.Properties.PayloadFormatVersion).toBe('2.0');
      return `${event.Properties.Method} ${event.Properties.Path}`;
    })
    .sort();

interface Statement {
  readonly Sid: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}
const statementsOf = (roleId: string): Statement[] =>
  (props(template.Resources[roleId]).Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
    (policy) => policy.PolicyDocument.Statement,
  );
const actionsOf = (statements: Statement[]): string[] =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

describe('the HTTP API routes', () => {
  it('are the vend routes on VendFunction and the operator routes on OperatorFunction, as the code names them', () => {
    expect(routesOf('VendFunction')).toEqual([...VEND_ROUTES].sort());
    expect(routesOf('OperatorFunction')).toEqual([...OPERATOR_ROUTES].sort());
  });

  it('are exactly what the local HTTP API serves (no local-only route)', () => {
    expect([...LOCAL_ROUTE_KEYS].sort()).toEqual([...VEND_ROUTES, ...OPERATOR_ROUTES].sort());
  });

  it('all require SigV4 (AWS_IAM is the API default authorizer)', () => {
    const auth = props(template.Resources.VendHttpApi).Auth as Record<string, unknown>;
    expect(auth).toMatchObject({ EnableIamAuthorizer: true, DefaultAuthorizer: 'AWS_IAM' });
  });
});

describe('OperatorFunction', () => {
  it('answers within API Gateway’s 30 s and the local server gives it the same time', () => {
    const timeout = props(template.Resources.OperatorFunction).Timeout;
    expect(timeout).toBe(29);
    expect(FUNCTION_TIMEOUT_MS.operator).toBe(29_000);
    expect(FUNCTION_TIMEOUT_MS.vend).toBe((template.Globals?.Function?.Timeout as number) * 1000);
  });

  it('may read rows, revoke conditionally and query the two indexes, nothing else on the table', () => {
    const statements = statementsOf('OperatorRole');
    const table = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
    expect(actionsOf(table)).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    const query = table.find((s) => actionsOf([s]).includes('dynamodb:Query'));
    expect(JSON.stringify(query?.Resource)).toContain('/index/byUser');
    expect(JSON.stringify(query?.Resource)).toContain('/index/byActiveShard');
    // Query on the indexes only: the table ARN itself is not among its resources.
    expect(JSON.stringify(query?.Resource)).not.toContain('"SessionsTable.Arn"');
    expect(actionsOf(statements).filter((a) => /^dynamodb:.*(Scan|Delete|Put|Batch)/.test(a))).toEqual([]);
  });

  it('links executions of the template’s own state machines, the lifecycle one only while sessions get one', () => {
    const env = (
      props(template.Resources.OperatorFunction).Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(env.LIFECYCLE_STATE_MACHINE_ARN).toEqual({
      'Fn::If': ['PerSessionExecutionsEnabled', { Ref: 'SessionLifecycleStateMachine' }, ''],
    });
    expect(template.Conditions?.PerSessionExecutionsEnabled).toEqual({
      'Fn::Equals': [{ Ref: 'PerSessionExecutions' }, 'enabled'],
    });
    expect(env.REVOCATION_FANOUT_STATE_MACHINE_ARN).toEqual({ Ref: 'RevocationFanoutStateMachine' });
  });
});
