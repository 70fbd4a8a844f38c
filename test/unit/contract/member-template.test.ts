/**
 * template-member.yaml (the enforcement role each member account deploys) and template.yaml agree: the role's
 * name is the one the enforcer assumes, it trusts exactly the enforcer's role, and it allows exactly the IAM
 * actions the enforcer's adapter calls, on that account's roles only. The enforcer itself reads the session
 * row (GetItem only) and the profile allowlist it checks every input against.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTemplate, type Template, type TemplateResource } from '../../../local/template.js';

const main = loadTemplate();
const member = loadTemplate('template-member.yaml');

const resource = (template: Template, id: string): TemplateResource => {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found;
};
const propsOf = (template: Template, id: string): Record<string, unknown> =>
  resource(template, id).Properties ?? {};
type Statement = { Sid?: string; Effect: string; Action: unknown; Resource?: unknown; Condition?: unknown };
const statementsOf = (template: Template, roleId: string): Statement[] =>
  (propsOf(template, roleId).Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
    (policy) => policy.PolicyDocument.Statement,
  );
const actions = (statement: Statement): string[] => ([] as string[]).concat(statement.Action as string);
const ROLE_NAME = { 'Fn::Sub': '${EnforcementRoleName}-${Stage}' };

/** The IAM commands the enforcer's adapter sends, as IAM actions (PutRolePolicyCommand → iam:PutRolePolicy). */
const adapterIamActions = (): string[] => {
  const source = readFileSync('src/adapters/iam-access-enforcer.ts', 'utf8');
  const imports = /import\s*\{([^}]*)\}\s*from '@aws-sdk\/client-iam'/.exec(source)?.[1] ?? '';
  return [...imports.matchAll(/(\w+)Command\b/g)].map(([, name]) => `iam:${name}`).sort();
};

describe('template-member.yaml', () => {
  it('is StackSets-ready: no transform, no exports, every parameter has a default except the enforcer’s role', () => {
    expect(member.Transform).toBeUndefined();
    for (const output of Object.values(member.Outputs ?? {})) expect(output.Export).toBeUndefined();
    const required = Object.entries(member.Parameters ?? {})
      .filter(([, parameter]) => parameter.Default === undefined)
      .map(([name]) => name);
    expect(required).toEqual(['EnforcerRoleArn']);
  });

  it('names the role as the enforcer assumes it, with the same Stage and EnforcementRoleName rules', () => {
    expect(propsOf(member, 'EnforcementRole').RoleName).toEqual(ROLE_NAME);
    for (const name of ['Stage', 'EnforcementRoleName']) {
      const { Description: _m, ...memberRule } = member.Parameters?.[name] ?? {};
      const { Description: _c, ...mainRule } = main.Parameters?.[name] ?? {};
      expect(memberRule, name).toEqual(mainRule);
    }
    const variables = (
      propsOf(main, 'RevocationEnforcerFunction').Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(variables.ENFORCEMENT_ROLE_NAME).toEqual(ROLE_NAME);
    expect(variables.ENFORCER_ACCOUNT_ID).toEqual({ Ref: 'AWS::AccountId' });
  });

  it('trusts only the enforcer’s role (by aws:PrincipalArn, in the central account) and only for AssumeRole', () => {
    const trust = propsOf(member, 'EnforcementRole').AssumeRolePolicyDocument as { Statement: Statement[] };
    expect(trust.Statement).toEqual([
      {
        Sid: 'CentralRevocationEnforcerOnly',
        Effect: 'Allow',
        Principal: {
          AWS: {
            'Fn::Sub': [
              'arn:${AWS::Partition}:iam::${CentralAccountId}:root',
              { CentralAccountId: { 'Fn::Select': [4, { 'Fn::Split': [':', { Ref: 'EnforcerRoleArn' }] }] } },
            ],
          },
        },
        Action: 'sts:AssumeRole',
        Condition: { ArnEquals: { 'aws:PrincipalArn': { Ref: 'EnforcerRoleArn' } } },
      },
    ]);
    // What the operator passes as EnforcerRoleArn is the central stack's output of that very role.
    expect(main.Outputs?.RevocationEnforcerRoleArn?.Value).toEqual({
      'Fn::GetAtt': ['RevocationEnforcerRole', 'Arn'],
    });
  });

  it('allows exactly the IAM actions the enforcer’s adapter calls, on this account’s profile roles only', () => {
    const statements = statementsOf(member, 'EnforcementRole');
    const allowed = statements.filter((s) => s.Effect === 'Allow');
    expect(allowed.flatMap(actions).sort()).toEqual(adapterIamActions());
    for (const statement of allowed) {
      expect(statement.Resource).toEqual({
        'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role${ProfileRolePath}*',
      });
    }
    // Never on itself, even under a ProfileRolePath of /.
    const deny = statements.filter((s) => s.Effect === 'Deny');
    expect(deny.map((s) => s.Resource)).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${EnforcementRoleName}-${Stage}' },
    ]);
    expect(deny.flatMap(actions)).toContain('iam:PutRolePolicy');
  });

  it('matches the enforcer’s own IAM actions in its account', () => {
    const enforcer = statementsOf(main, 'RevocationEnforcerRole');
    const onProfileRoles = enforcer.filter(
      (s) => JSON.stringify(s.Resource) === JSON.stringify({ Ref: 'VendProfileRoleArns' }),
    );
    expect(onProfileRoles.flatMap(actions).sort()).toEqual(adapterIamActions());
  });
});

describe('RevocationEnforcerRole (template.yaml)', () => {
  const enforcer = statementsOf(main, 'RevocationEnforcerRole');

  it('may assume the member accounts’ enforcement role and no other role', () => {
    const assume = enforcer.filter((s) => actions(s).some((a) => a.startsWith('sts:')));
    expect(assume).toEqual([
      {
        Sid: 'AssumeMemberEnforcementRole',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::*:role/${EnforcementRoleName}-${Stage}' },
      },
    ]);
  });

  it('reads the session row with GetItem only, and gets the profile allowlist it checks inputs against', () => {
    const onSessions = enforcer.filter(
      (s) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': ['SessionsTable', 'Arn'] }),
    );
    expect(onSessions.flatMap(actions)).toEqual(['dynamodb:GetItem']);
    const variables = (
      propsOf(main, 'RevocationEnforcerFunction').Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(variables.SESSIONS_TABLE_NAME).toEqual({ Ref: 'SessionsTable' });
    expect(variables.PROFILES).toEqual({ Ref: 'VendProfiles' });
  });
});
