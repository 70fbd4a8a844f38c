/** Shared set-up of the operator API tests: fixtures from events/operator and the callers they use. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AccessPolicy } from '../../src/domain/access-policy.js';
import { parsePolicy } from '../../src/domain/access-policy-document.js';
import type { CallerIdentity } from '../../src/domain/identity.js';
import { parseCallerArn } from '../../src/domain/identity.js';
import { newSession, type Session } from '../../src/domain/session.js';
import type { HttpApiEvent } from '../../src/handlers/http/event.js';
import type { ExecutionLinks } from '../../src/handlers/http/operator-response.js';
import { withCaller } from './vend-api.js';

export type OperatorFixture = 'list' | 'list-admin-active' | 'show' | 'revoke' | 'revoke-user';

export const operatorFixture = (name: OperatorFixture): HttpApiEvent =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../events/operator/${name}.json`, import.meta.url)), 'utf8'),
  );

/** The fixtures' callers: alice (owner of the fixtures' session), bob (someone else), carol (an admin). */
export const ALICE_ARN =
  'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice@example.com';
export const BOB_ARN =
  'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/bob@example.com';
export const ADMIN_ARN =
  'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_SecOps_89abcdef01234567/carol@example.com';

export const caller = (arn: string): CallerIdentity => parseCallerArn(arn);

/** Admins: carol's permission set; everyone may vend (the operator API does not vend). */
export const OPERATOR_POLICY: AccessPolicy = parsePolicy({
  version: 'operator-test',
  admins: ['arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_SecOps_*/*'],
  rules: [{ name: 'allow-all', effect: 'allow' }],
});

export const EXECUTION_LINKS: ExecutionLinks = {
  lifecycleStateMachineArn:
    'arn:aws:states:eu-west-1:111122223333:stateMachine:sentinel-sessions-lifecycle-test',
  revocationFanoutStateMachineArn:
    'arn:aws:states:eu-west-1:111122223333:stateMachine:sentinel-sessions-revocation-fanout-test',
};

/** A fresh active session owned by `arn`, created at `now`. */
export const sessionOf = (sessionId: string, arn: string, now: Date, profile = 'dev'): Session =>
  newSession({
    sessionId,
    caller: caller(arn),
    profile,
    roleArn: 'arn:aws:iam::444455556666:role/dev',
    sourceIdentity: caller(arn).user.slice(0, 64),
    policy: { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 28_800 },
    now,
  });

/** The fixture for `route` as `arn`, about `target` (a session id or a user), with `body` and `query`. */
export const operatorRequest = (
  name: OperatorFixture,
  options: {
    readonly as?: string;
    readonly sessionId?: string;
    readonly user?: string;
    readonly body?: unknown;
    readonly query?: string;
  } = {},
): HttpApiEvent => {
  let event = operatorFixture(name);
  if (options.as !== undefined) event = withCaller(event, options.as);
  if (options.sessionId !== undefined) event = { ...event, pathParameters: { sessionId: options.sessionId } };
  if (options.user !== undefined) event = { ...event, pathParameters: { user: options.user } };
  if (options.body !== undefined) {
    event = {
      ...event,
      body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    };
  }
  if (options.query !== undefined) {
    const { queryStringParameters: _parsed, ...rest } = event;
    event = { ...rest, rawQueryString: options.query };
  }
  return event;
};
