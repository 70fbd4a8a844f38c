/**
 * template.yaml is the product's contract: these tests fail when it and the code disagree.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTemplate, REPO_ROOT, type TemplateResource } from '../../../local/template.js';

const template = loadTemplate();
const resources = Object.entries(template.Resources);
const functions = resources.filter(([, r]) => r.Type === 'AWS::Serverless::Function');
const globalsFunction = template.Globals?.Function ?? {};
const globalEnv = Object.keys(
  ((globalsFunction.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as object,
);

const props = (r: TemplateResource): Record<string, unknown> => r.Properties ?? {};

/** The handler source plus every local module it imports, transitively. */
const sourceClosure = (entry: string): string[] => {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g))
      visit(resolve(dirname(file), `${match[1]}.ts`));
  };
  visit(entry);
  return [...seen];
};

/** Environment variables the code reads through src/commons/env.ts helpers or process.env. */
const envReadBy = (files: string[]): string[] => {
  const names = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:requireEnv|optionalEnv|enumEnv|intEnv|jsonEnv)\(\s*'([A-Z0-9_]+)'/g))
      names.add(String(m[1]));
    for (const m of text.matchAll(/process\.env\.([A-Z0-9_]+)/g)) names.add(String(m[1]));
  }
  // Set by the Lambda runtime itself, or read only as optional Powertools/SDK settings.
  for (const runtime of [
    'AWS_REGION',
    'AWS_LAMBDA_FUNCTION_NAME',
    'POWERTOOLS_DEV',
    'NODE_ENV',
    'AWS_SDK_LOAD_CONFIG',
  ]) {
    names.delete(runtime);
  }
  return [...names].sort();
};

describe('template.yaml agrees with the code', () => {
  it('has the functions of the pipeline', () => {
    expect(functions.map(([id]) => id)).toEqual(
      expect.arrayContaining(['VendFunction', 'LifecycleConsumerFunction']),
    );
  });

  it('runs every function on nodejs22.x', () => {
    expect(globalsFunction.Runtime).toBe('nodejs22.x');
    for (const [, fn] of functions) expect(props(fn).Runtime ?? globalsFunction.Runtime).toBe('nodejs22.x');
  });

  describe.each(functions)('%s', (_id, fn) => {
    const metadata = fn.Metadata as
      | { BuildMethod?: string; BuildProperties?: Record<string, unknown> }
      | undefined;
    const entryPoints = (metadata?.BuildProperties?.EntryPoints as string[] | undefined) ?? [];
    const entry = join(REPO_ROOT, String(props(fn).CodeUri ?? '.'), entryPoints[0] ?? 'missing');

    it('is built by esbuild as minified ESM from one entry point that exists', () => {
      // esbuild through SAM, or through scripts/build.ts (same settings plus bundle-time aliases) via make.
      expect(['esbuild', 'makefile']).toContain(metadata?.BuildMethod);
      if (metadata?.BuildMethod === 'makefile') {
        const makefile = readFileSync(join(REPO_ROOT, 'Makefile'), 'utf8');
        expect(makefile).toMatch(new RegExp(`^build-${_id}:\\n\\t.*scripts/build\\.ts`, 'm'));
      }
      expect(metadata?.BuildProperties).toMatchObject({ Format: 'esm', Minify: true });
      expect(entryPoints).toHaveLength(1);
      expect(existsSync(entry)).toBe(true);
    });

    it('names a handler that the entry point exports', () => {
      const handler = String(props(fn).Handler);
      const [file, exported] = handler.split('.');
      expect(entryPoints[0]?.replace(/^.*\//, '').replace(/\.ts$/, '')).toBe(file?.replace(/^.*\//, ''));
      expect(readFileSync(entry, 'utf8')).toMatch(
        new RegExp(`export (const|async function|function) ${exported}\\b`),
      );
    });

    it('logs to its own log group with a retention', () => {
      const logGroup = (props(fn).LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup
        ?.Ref;
      expect(logGroup, 'LoggingConfig.LogGroup must !Ref an AWS::Logs::LogGroup').toBeDefined();
      const group = template.Resources[String(logGroup)];
      expect(group?.Type).toBe('AWS::Logs::LogGroup');
      expect(group?.Properties?.RetentionInDays).toBeDefined();
    });

    it('sets every environment variable its code reads', () => {
      const own = Object.keys(
        ((props(fn).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
          {}) as object,
      );
      const missing = envReadBy(sourceClosure(entry)).filter(
        (name) => !own.includes(name) && !globalEnv.includes(name),
      );
      expect(missing).toEqual([]);
    });
  });

  it('grants no wildcard actions, and "*" resources only where AWS allows nothing narrower', () => {
    // SAM functions/state machines: Policies[].Statement; IAM roles: Policies[].PolicyDocument.Statement.
    type Policy = {
      Statement?: Record<string, unknown>[];
      PolicyDocument?: { Statement?: Record<string, unknown>[] };
    };
    const statements = resources.flatMap(([id, r]) =>
      ((props(r).Policies as Policy[] | undefined) ?? []).flatMap((p) =>
        (p.Statement ?? p.PolicyDocument?.Statement ?? []).map(
          (s): Record<string, unknown> & { id: string } => ({ ...s, id }),
        ),
      ),
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const actions = ([] as unknown[]).concat(statement.Action);
      expect(
        actions.filter((a) => typeof a === 'string' && a.includes('*')),
        `${statement.id}`,
      ).toEqual([]);
      if (statement.Resource === '*') {
        // CloudWatch Logs delivery (state machine logging), dynamodb:ListStreams and X-Ray have no resource-level
        // permissions.
        expect(
          actions.every((a) =>
            /^(logs:\w*(Delivery|Deliveries|ResourcePolic\w+|DescribeLogGroups)|xray:|dynamodb:ListStreams$)/.test(
              String(a),
            ),
          ),
          `${statement.id}: ${actions.join(',')}`,
        ).toBe(true);
      }
    }
  });
});

describe('template.yaml security settings', () => {
  const propsOf = (id: string): Record<string, unknown> => template.Resources[id]?.Properties ?? {};

  it('keeps the sessions table recoverable and encrypted', () => {
    expect(propsOf('SessionsTable').PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
    expect(propsOf('SessionsTable').SSESpecification).toEqual({ SSEEnabled: true });
  });

  it('puts the vend API behind the IAM authorizer by default', () => {
    expect(propsOf('VendHttpApi').Auth).toMatchObject({
      EnableIamAuthorizer: true,
      DefaultAuthorizer: 'AWS_IAM',
    });
  });

  it('lets vend assume, tag and set the source identity only on the configured profile roles', () => {
    type Statement = { Sid?: string; Action?: unknown; Resource?: unknown };
    const policies = propsOf('VendRole').Policies as { PolicyDocument: { Statement: Statement[] } }[];
    const statements = policies.flatMap((p) => p.PolicyDocument.Statement);
    const sts = statements.filter((s) => JSON.stringify(s.Action).includes('sts:'));
    expect(sts).toEqual([
      expect.objectContaining({
        Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
        Resource: { Ref: 'VendProfileRoleArns' },
      }),
    ]);
  });
});

describe('the access policy', () => {
  it('lives in the stack’s SSM parameter, read by the vend and operator functions alone, and only that parameter', () => {
    const parameter = template.Resources.AccessPolicyParameter;
    expect(parameter?.Type).toBe('AWS::SSM::Parameter');
    for (const fn of ['VendFunction', 'OperatorFunction']) {
      const env = (
        props(template.Resources[fn] ?? { Type: '' }).Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      expect(env.ACCESS_POLICY_PARAMETER).toEqual({ Ref: 'AccessPolicyParameter' });
      expect(env.ACCESS_POLICY_MAX_AGE_SECONDS).toEqual({ Ref: 'AccessPolicyMaxAgeSeconds' });
    }
    const grants = resources.flatMap(([id, r]) =>
      JSON.stringify(props(r).Policies ?? []).includes('ssm:') ? [id] : [],
    );
    expect(grants.sort()).toEqual(['OperatorRole', 'VendRole']);
    for (const role of grants) {
      const statements = (
        props(template.Resources[role] ?? { Type: '' }).Policies as {
          PolicyDocument: { Statement: { Sid: string; Action: unknown; Resource: unknown }[] };
        }[]
      ).flatMap((p) => p.PolicyDocument.Statement);
      const ssm = statements.filter((s) => JSON.stringify(s.Action).includes('ssm:'));
      expect(ssm.map((s) => [s.Sid, s.Action])).toEqual([['ReadAccessPolicy', 'ssm:GetParameter']]);
      expect(JSON.stringify(ssm[0]?.Resource)).toContain('parameter${AccessPolicyParameter}');
    }
  });
});
