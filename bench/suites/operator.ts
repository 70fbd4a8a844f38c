/**
 * The operator API on DynamoDB Local: one revoke against revoke-user of 250 sessions (paginated listing,
 * 16 revocations in flight, a confirming second listing). One by one, 250 revocations would take about 250
 * times one. DynamoDB Local on a 2-core machine serves only about two conditional writes at once, so the
 * ratio there stays far above what the same concurrency gives in AWS; the target guards against losing the
 * concurrency (docs/operations.md, "Benchmarks"). Local latencies are comparable only run to run.
 */
import type { Context } from 'aws-lambda';
import { parsePolicy } from '../../src/domain/access-policy-document.js';
import { systemClock } from '../../src/domain/clock.js';
import { randomIds } from '../../src/domain/ids.js';
import { newSession } from '../../src/domain/session.js';
import type { HttpApiEvent } from '../../src/handlers/http/event.js';
import { createOperatorApi, type OperatorMetric } from '../../src/handlers/http/operator-api.js';
import { iamUserCaller } from '../../test/support/callers.js';
import { type Metrics, percentile, type Suite, timeMs } from '../harness.js';
import { withTemplateSessionStore } from '../local-store.js';

const USERS_SESSIONS = 250;
const SINGLE_REVOKES = 30;
const ACCOUNT = '123456789012';
const ADMIN_ARN = `arn:aws:iam::${ACCOUNT}:user/admin`;

const sessionFor = (user: string, at: Date) =>
  newSession({
    sessionId: randomIds.sessionId(),
    caller: iamUserCaller(user, ACCOUNT),
    profile: 'dev',
    roleArn: `arn:aws:iam::${ACCOUNT}:role/sentinel-dev`,
    sourceIdentity: user,
    policy: { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 4 * 3600 },
    now: at,
  });

/** The payload 2.0 event API Gateway sends for `routeKey`, signed by the admin. */
const request = (routeKey: string, pathParameters: Record<string, string>): HttpApiEvent => ({
  version: '2.0',
  routeKey,
  headers: {},
  pathParameters,
  body: JSON.stringify({ reason: 'bench' }),
  isBase64Encoded: false,
  requestContext: {
    requestId: randomIds.sessionId(),
    routeKey,
    authorizer: { iam: { userArn: ADMIN_ARN, accountId: ACCOUNT, cognitoIdentity: null } },
  },
});

const context = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 29_000 } as unknown as Context;
const silent = {
  correlate: () => undefined,
  session: () => undefined,
  count: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

const suite: Suite = {
  name: 'operator',
  targets: [
    { metric: 'operator.revoke_user_250_ms_ratio', op: '<=', value: 150 },
    { metric: 'operator.revoke_user_speedup_over_one_by_one', op: '>=', value: 1.5 },
  ],
  async run(): Promise<Metrics> {
    return withTemplateSessionStore(async (store) => {
      const api = createOperatorApi({
        store,
        clock: systemClock,
        policy: { current: async () => parsePolicy({ version: 1, admins: [ADMIN_ARN], rules: [] }) },
        telemetry: { ...silent, count: (_metric: OperatorMetric) => undefined },
        executions: {
          revocationFanoutStateMachineArn: `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:fanout`,
        },
      });
      const now = Date.now();
      const singles = Array.from({ length: SINGLE_REVOKES }, (_, i) =>
        sessionFor(`single${i}`, new Date(now)),
      );
      const bulk = Array.from({ length: USERS_SESSIONS }, (_, i) => sessionFor('bulk', new Date(now + i)));
      const serial = Array.from({ length: USERS_SESSIONS }, (_, i) =>
        sessionFor('serial', new Date(now + i)),
      );
      for (const session of [...singles, ...bulk, ...serial]) await store.create(session);

      const singleMs: number[] = [];
      for (const session of singles) {
        const event = request('POST /v1/sessions/{sessionId}/revoke', { sessionId: session.sessionId });
        singleMs.push(
          await timeMs(async () => {
            const response = await api(event, context);
            if (response.statusCode !== 200) throw new Error(`revoke answered ${response.statusCode}`);
          }),
        );
      }
      let report: Record<string, unknown> = {};
      const userMs = await timeMs(async () => {
        const response = await api(request('POST /v1/users/{user}/revoke', { user: 'bulk' }), context);
        report = JSON.parse(response.body) as Record<string, unknown>;
      });
      if (report.revoked !== USERS_SESSIONS || report.complete !== true) {
        throw new Error(`revoke-user did not revoke all ${USERS_SESSIONS}: ${JSON.stringify(report)}`);
      }
      // The same 250 revocations one request at a time: what revoke-user saves over a loop of single revokes.
      const serialMs = await timeMs(async () => {
        for (const session of serial) {
          await api(
            request('POST /v1/sessions/{sessionId}/revoke', { sessionId: session.sessionId }),
            context,
          );
        }
      });
      const single = percentile(singleMs, 50);
      return {
        'operator.revoke_p50_ms': single,
        'operator.revoke_user_250_ms': userMs,
        'operator.revoke_user_250_ms_ratio': userMs / single,
        'operator.revoke_250_one_by_one_ms': serialMs,
        'operator.revoke_user_speedup_over_one_by_one': serialMs / userMs,
      };
    });
  },
};

export default suite;
