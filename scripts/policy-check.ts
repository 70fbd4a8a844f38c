/**
 * `npm run policy:check FILE [-- --principal ARN --profile P [--at ISO] [--user U] [--org O]]`
 *
 * Validates an access policy and prints its problems (exit 1) or `valid, N rules, version V` and any
 * shadowed rules. With --principal and --profile it also says which rule decides that request and why:
 * exit 0 for allow, 1 for deny, 2 for a usage error. The user defaults to the canonical user of --principal
 * (with the policy's identityRoles), as the vend API derives it.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type AccessPolicy, evaluate, shadowedRules } from '../src/domain/access-policy.js';
import { PolicyDocumentError } from '../src/domain/access-policy-document.js';
import { parsePolicyDocument } from '../src/domain/access-policy-yaml.js';
import { type CallerIdentity, parseCallerArn } from '../src/domain/identity.js';

const USAGE = `usage: npm run policy:check FILE [-- --principal ARN --profile P [--at ISO] [--user U] [--org O]]

  FILE              the access policy (YAML or JSON)
  --principal ARN   the caller's ARN, as the IAM authorizer reports it
  --profile P       the profile asked for
  --at ISO          the time of the request (default: now), e.g. 2026-03-02T09:30:00Z
  --user U          the canonical user (default: derived from --principal)
  --org O           the caller's organization id (o-…), as principalOrgId
`;

class UsageError extends Error {}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

const write = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const run = (argv: readonly string[]): number => {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // parseArgs throws a TypeError with an ERR_PARSE_ARGS_* code for an unknown or malformed option.
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error))
      return usage(error.message);
    throw error;
  }
  const { values, file } = parsed;
  if (values.help) {
    write(USAGE);
    return 0;
  }

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    process.stderr.write(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  let policy: AccessPolicy;
  try {
    policy = parsePolicyDocument(text, file);
  } catch (error) {
    if (!(error instanceof PolicyDocumentError)) throw error;
    write(error.message);
    return 1;
  }
  write(
    `valid, ${policy.rules.length} rule${policy.rules.length === 1 ? '' : 's'}, version ${policy.version}`,
  );
  for (const shadowed of shadowedRules(policy)) write(`warning: ${shadowed.message}`);

  if (values.principal === undefined) return 0;
  const { principal, profile = '' } = values;
  let caller: CallerIdentity;
  try {
    caller = parseCallerArn(principal, { identityRoles: policy.identityRoles });
  } catch (error) {
    return usage(`--principal: ${error instanceof Error ? error.message : String(error)}`);
  }
  const at = values.at === undefined ? new Date() : new Date(values.at);
  const user = values.user ?? caller.user;
  const decision = evaluate(policy, {
    principalArn: caller.principalArn,
    accountId: caller.accountId,
    orgId: values.org,
    user,
    profile,
    at,
  });

  write('');
  write(
    `request: principal ${caller.principalArn}, user ${user}, account ${caller.accountId}` +
      `${values.org === undefined ? '' : `, org ${values.org}`}, profile ${profile}, at ${at.toISOString()}`,
  );
  write(`effect: ${decision.effect}`);
  write(`rule: ${decision.rule ?? '(none matched)'}`);
  write(`reason: ${decision.reason}`);
  if (decision.maxLifetimeSeconds !== undefined) write(`maxLifetimeSeconds: ${decision.maxLifetimeSeconds}`);
  write(`policyVersion: ${decision.policyVersion}`);
  return decision.effect === 'allow' ? 0 : 1;
};

const parse = (argv: readonly string[]) => {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      principal: { type: 'string' },
      profile: { type: 'string' },
      at: { type: 'string' },
      user: { type: 'string' },
      org: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { values, file: '' };
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'no policy file given' : 'give exactly one policy file');
  }
  const file = positionals[0] ?? '';
  const needsRequest = (['profile', 'at', 'user', 'org'] as const).filter((key) => values[key] !== undefined);
  if (values.principal === undefined && needsRequest.length > 0) {
    throw new UsageError(`--${needsRequest[0]} needs --principal`);
  }
  if (values.principal !== undefined && values.profile === undefined) {
    throw new UsageError('--principal needs --profile');
  }
  // Date.parse takes more than ISO 8601; a strict shape keeps "03/04" from meaning a guessed date.
  if (values.at !== undefined && (!ISO.test(values.at) || Number.isNaN(Date.parse(values.at)))) {
    throw new UsageError(`--at: ${JSON.stringify(values.at)} is not an ISO 8601 date-time with a zone`);
  }
  return { values, file };
};

const usage = (message: string): number => {
  process.stderr.write(`${message}\n\n${USAGE}`);
  return 2;
};

process.exitCode = run(process.argv.slice(2));
