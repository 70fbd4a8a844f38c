/**
 * template.yaml for the downstream verifier and the deny list: the verifier is optional (deployed only with
 * an audience), reads one table with one action, and takes its settings from the parameters; the enforcer
 * may measure the profile roles' other inline policies (read-only, those roles only) and mark versions
 * enforced, and nothing more than before.
 */
import { describe, expect, it } from 'vitest';
import { loadTemplate, type TemplateResource } from '../../../local/template.js';

const template = loadTemplate();
const resource = (id: string): TemplateResource => {
  const found = template.Resources[id];
  if (!found) throw new Error(`template.yaml has no ${id}`);
  return found;
};
const propsOf = (id: string): Record<string, unknown> => {
  const properties = resource(id).Properties;
  if (!properties) throw new Error(`${id} has no Properties`);
  return properties;
};
type Statement = { Sid?: string; Action?: unknown; Resource?: unknown };
const statementsOf = (roleId: string): Statement[] =>
  (propsOf(roleId).Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
    (p) => p.PolicyDocument.Statement,
  );
const actions = (statement: Statement): string[] => ([] as string[]).concat(statement.Action as string);

describe('SessionVerifierFunction', () => {
  it('is deployed only when SessionVerifierAudience is set, with its role, log group and output', () => {
    expect((template as { Conditions?: Record<string, unknown> }).Conditions?.DeploySessionVerifier).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'SessionVerifierAudience' }, ''] }],
    });
    for (const id of ['SessionVerifierFunction', 'SessionVerifierRole', 'SessionVerifierLogGroup']) {
      expect((resource(id) as { Condition?: string }).Condition, id).toBe('DeploySessionVerifier');
    }
  });

  it('takes its table, audience and allow-cache TTL (0-5 s) from the stack', () => {
    const variables = (
      propsOf('SessionVerifierFunction').Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(variables).toEqual({
      SESSIONS_TABLE_NAME: { Ref: 'SessionsTable' },
      VERIFIER_AUDIENCE: { Ref: 'SessionVerifierAudience' },
      VERIFIER_ALLOW_CACHE_SECONDS: { Ref: 'SessionVerifierAllowCacheSeconds' },
    });
    expect(template.Parameters?.SessionVerifierAllowCacheSeconds).toMatchObject({ MinValue: 0, MaxValue: 5 });
  });

  it('may only GetItem on the Sessions table (plus its own logs and traces)', () => {
    const data = statementsOf('SessionVerifierRole').filter(
      (s) => !/^(logs|xray):/.test(actions(s)[0] ?? ''),
    );
    expect(data).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:GetItem',
        Resource: { 'Fn::GetAtt': ['SessionsTable', 'Arn'] },
      }),
    ]);
  });
});

describe('RevocationEnforcerRole', () => {
  it('reads the profile roles’ inline policies and writes only its own, on those roles alone', () => {
    const iam = statementsOf('RevocationEnforcerRole').filter((s) =>
      actions(s).some((a) => a.startsWith('iam:')),
    );
    expect(iam.map((s) => [actions(s).sort(), s.Resource])).toEqual([
      [['iam:PutRolePolicy'], { Ref: 'VendProfileRoleArns' }],
      [['iam:GetRolePolicy', 'iam:ListRolePolicies'], { Ref: 'VendProfileRoleArns' }],
    ]);
  });

  it('reads, records and marks enforced the rows of its own table', () => {
    const rows = statementsOf('RevocationEnforcerRole').find((s) => s.Sid === 'DenyListRows');
    expect(rows?.Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(rows?.Resource).toEqual({ 'Fn::GetAtt': ['DenyListTable', 'Arn'] });
  });
});
