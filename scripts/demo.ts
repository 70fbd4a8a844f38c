/**
 * `npm run demo`: the whole pipeline's story in under a minute, on a local stack of its own, each step
 * proved by the response or event it caused; exit 0 only if every step happened. See USAGE.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { EventEnvelope } from '../local/event-bus.js';
import { LOCAL_CALLER_HEADER } from '../local/http-api.js';
import { InMemoryAccessEnforcer } from '../local/in-memory-access-enforcer.js';
import { OFFLINE_ACCESS_KEY_PREFIX } from '../local/offline-credential-issuer.js';
import { LOCAL_PROFILES, type LocalStack, startLocalStack } from '../local/stack.js';
import { SWEEP_EVERY_SECONDS } from '../local/sweeper-schedule.js';
import { REPO_ROOT } from '../local/template.js';
import { parseRoleArn } from '../src/domain/arn.js';
import { buildRoleSessionName } from '../src/domain/sts-names.js';
import { verifySession } from '../src/usecases/verify-session.js';
import {
  type AuditSubject,
  checkAuditOnce,
  describeSlackMessage,
  describeTeamsMessage,
  type IssuedSecrets,
  redactSecrets,
  STORY_AUDIT,
  StepFailure,
} from './demo/checks.js';

const USAGE = `usage: npm run demo [-- --break notifications]

Starts a local stack of its own (DynamoDB Local, stream poller, lifecycle consumer, workflows in the ASL
interpreter, local bus with the template's rules, audit file, Slack/Teams webhook receiver, in-memory deny
list; STS offline, its credentials fake) on free ports, with its clock 120x the wall clock and the policy
local/demo-policy.yaml, then tells the story step by step, each with the response or event that proves it:
  1. alice creates a session and refreshes it        5. the Slack and Teams receivers get the notification
  2. bob's session expires on time                   6. the verifier now denies alice's credentials
  3. carol is denied by the policy                   7. the deny list holds her session
  4. an admin revokes alice (operator API)           8. the audit log shows each event once
Exit 0 only if every step happened; 1 naming each step that did not (a step is never skipped); 2 for a
usage error. It takes about 20 s and stops everything it started. No secret is printed. Its audit log is
kept in .local/demo-audit.jsonl (DEMO_AUDIT_LOG=path for another); a running \`npm start\` is not touched.

  --break notifications   (or DEMO_BREAK=notifications) the Slack and Teams webhooks answer 503, to see
                          the demo fail at step 5

It does not attach to a running \`npm start\` (there is no --url): steps 5-7 read the stack's webhook
receiver, Sessions table and deny list, which that stack does not expose over HTTP, so against it only
steps 1-4 and 8 could be proved.
`;

const BREAKABLE = ['notifications'] as const;
type Breakable = (typeof BREAKABLE)[number];

/**
 * The stack's clock runs this much faster than the wall clock: bob's 960 s idle window passes in 8 s. Not
 * faster: the sweeper's minute is then 500 ms, and a run takes about 250 ms on a busy 2-core machine. At 240x
 * it falls behind, and once more than 10 minutes behind the schedule skips minutes (local/sweeper-schedule.ts),
 * so bob would expire minutes late on the stack's clock.
 */
const TIME_SCALE = 120;
/** Every wait for the pipeline gives up after this long; the whole demo after DEMO_BUDGET_MS. */
const WAIT_MS = 15_000;
const DEMO_BUDGET_MS = 55_000;

const ACCOUNT = '123456789012';
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;
const CAROL = `arn:aws:iam::${ACCOUNT}:user/carol`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:user/admin`;
const ROLE_ARN = LOCAL_PROFILES.dev.roleArn;
/**
 * Both on the local dev role. `dev` is the shortest idle window PROFILES accepts (960 s: 8 s here), for bob;
 * `long` keeps alice's session alive for 12 hours of stack time (6 minutes here), past the end of the demo.
 */
const DEMO_PROFILES = {
  dev: LOCAL_PROFILES.dev,
  long: { ...LOCAL_PROFILES.dev, idleTimeoutSeconds: 43_200, maxLifetimeSeconds: 43_200 },
};
const REVOKE_REASON = 'laptop lost on a train';

// ------------------------------------------------------------------------------------------- output

const issued: IssuedSecrets[] = [];
/** Every line goes through here: an issued secret that slipped into a message is still never printed. */
const say = (line = ''): void => {
  process.stdout.write(`${redactSecrets(line, issued)}\n`);
};
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
/** Session ids are 32 hex characters; 8 tell them apart in a story with three people. */
const short = (sessionId: string): string => `${sessionId.slice(0, 8)}…`;
/** Relative to where the demo was started when inside it, else as given. */
const displayPath = (path: string): string => {
  const inside = relative(process.cwd(), path);
  return inside === '' || inside.startsWith('..') ? path : inside;
};
const clockTime = (iso: unknown): string => String(iso).slice(11, 19);

// ------------------------------------------------------------------------------------------- the world

interface Vended {
  readonly sessionId: string;
  readonly expiresAt: string;
  readonly credentials: {
    readonly AccessKeyId: string;
    readonly SecretAccessKey: string;
    readonly Token: string;
  };
}

interface Story {
  readonly stack: LocalStack;
  readonly deadline: number;
  alice?: Vended & { readonly callerArn: string; readonly allowedAtStart: string };
  /** bob's create, sent as the story starts: his idle window runs while alice's step does. */
  readonly bobCreated: Promise<ApiResponse>;
  bob?: Vended;
}

type ApiResponse = { readonly status: number; readonly body: Record<string, unknown> };

/** A POST to the stack's API as `caller` (the local server's stand-in for the IAM authorizer). */
const post = async (
  stack: LocalStack,
  path: string,
  caller: string,
  body?: unknown,
): Promise<ApiResponse> => {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_CALLER_HEADER]: caller },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  const credentials = json.credentials as Record<string, unknown> | undefined;
  // Remembered before anything can print them, so say() redacts them whatever happens next.
  if (credentials) {
    issued.push({
      accessKeyId: String(credentials.AccessKeyId),
      secretAccessKey: String(credentials.SecretAccessKey),
      sessionToken: String(credentials.Token),
    });
  }
  return { status: response.status, body: json };
};

const expectStatus = (what: string, response: ApiResponse, status: number): void => {
  if (response.status !== status) {
    const { code, message } = response.body;
    throw new StepFailure(
      `${what} answered ${response.status} ${String(code ?? '')} ${String(message ?? '')}`,
    );
  }
};

const asVended = (body: Record<string, unknown>): Vended => body as unknown as Vended;

/** Polls until `probe` returns something, failing with `what` after WAIT_MS (or at the demo's deadline). */
const eventually = async <T>(
  story: Story,
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
) => {
  const startedAt = Date.now();
  const until = Math.min(startedAt + WAIT_MS, story.deadline);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new StepFailure(`no ${what} within ${seconds(Date.now() - startedAt)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

type Detail = Record<string, unknown>;
const eventsOf = (stack: LocalStack, type: string, match: (detail: Detail) => boolean): Detail[] =>
  stack.bus.events
    .filter((event) => event['detail-type'] === type)
    .map((event) => event.detail as Detail)
    .filter(match);
const busEvent = (story: Story, type: string, match: (detail: Detail) => boolean): Promise<Detail> =>
  eventually(story, `${type} on the bus`, () => eventsOf(story.stack, type, match)[0]);
const ofSession = (sessionId: string) => (detail: Detail) => detail.sessionId === sessionId;

/**
 * The ARN STS would report for the offline issuer's credentials: the offline token names the role and the
 * session it was issued for, and the RoleSessionName is the one vend gives STS (s-<sessionId>-<user>).
 */
const callerArnOf = (vended: Vended, user: string): string => {
  const prefix = 'OFFLINE-FAKE-TOKEN-';
  const { Token, AccessKeyId } = vended.credentials;
  if (!AccessKeyId.startsWith(OFFLINE_ACCESS_KEY_PREFIX) || !Token.startsWith(prefix))
    throw new StepFailure('the credentials are not the offline issuer’s: cannot tell their ARN');
  const bound = JSON.parse(Buffer.from(Token.slice(prefix.length), 'base64url').toString('utf8')) as {
    sessionId?: unknown;
    roleArn?: unknown;
  };
  const role = parseRoleArn(String(bound.roleArn));
  if (!role || bound.sessionId !== vended.sessionId)
    throw new StepFailure('the offline credentials are not bound to the session they were vended for');
  const roleSessionName = buildRoleSessionName({ user, sessionId: vended.sessionId });
  return `arn:${role.partition}:sts::${role.accountId}:assumed-role/${role.roleName}/${roleSessionName}`;
};

// ------------------------------------------------------------------------------------------- the steps

interface StepReport {
  /** What the demo did, and what came back. */
  readonly did: string;
  /** The event, row or record that proves the step happened. */
  readonly proof: string;
}

interface Step {
  readonly title: string;
  run(story: Story): Promise<StepReport>;
}

const needAlice = (story: Story) => {
  if (story.alice === undefined) throw new StepFailure('alice has no session (step 1 failed)');
  return story.alice;
};

const STEPS: readonly Step[] = [
  {
    title: 'alice creates a session and refreshes it',
    run: async (story) => {
      const created = await post(story.stack, '/v1/sessions', ALICE, { profile: 'long' });
      expectStatus('POST /v1/sessions', created, 201);
      const vended = asVended(created.body);
      const refreshed = await post(story.stack, `/v1/sessions/${vended.sessionId}/credentials`, ALICE);
      expectStatus('POST /v1/sessions/{id}/credentials', refreshed, 200);
      const sessionCreated = await busEvent(story, 'SessionCreated', ofSession(vended.sessionId));
      const touched = await busEvent(story, 'SessionTouched', ofSession(vended.sessionId));
      const callerArn = callerArnOf(vended, String(sessionCreated.user));
      // The baseline for step 6: the same question, asked while the session is active.
      const before = await verifySession(callerArn, { store: story.stack.store, clock: story.stack.clock });
      story.alice = { ...vended, callerArn, allowedAtStart: before.outcome };
      return {
        did:
          `POST /v1/sessions {"profile":"long"} → 201 session ${short(vended.sessionId)} ` +
          `(key ${vended.credentials.AccessKeyId.slice(0, 4)}…, secret and token [redacted]); ` +
          `POST …/credentials → 200, expires ${clockTime(asVended(refreshed.body).expiresAt)}`,
        proof:
          `bus: SessionCreated (rule ${String(sessionCreated.accessRule)}, policy v${String(sessionCreated.policyVersion)}), ` +
          `SessionTouched (requestCount ${String(touched.requestCount)})`,
      };
    },
  },
  {
    title: "bob's session expires on time",
    run: async (story) => {
      const created = await story.bobCreated;
      expectStatus('POST /v1/sessions', created, 201);
      const vended = asVended(created.body);
      story.bob = vended;
      const expired = await busEvent(story, 'SessionExpired', ofSession(vended.sessionId));
      const row = await story.stack.store.get(vended.sessionId);
      if (row?.status !== 'expired' || row.expiredAt === undefined)
        throw new StepFailure(`SessionExpired was published but the row is ${row?.status ?? 'gone'}`);
      // On time: not before its expiresAt, and at most one sweeper period after it (stack time).
      const lateMs = Date.parse(row.expiredAt) - Date.parse(row.expiresAt);
      if (!(lateMs >= 0 && lateMs <= SWEEP_EVERY_SECONDS * 1000))
        throw new StepFailure(
          `expired at ${row.expiredAt}, ${seconds(lateMs)} from its expiresAt ${row.expiresAt} (allowed 0-${SWEEP_EVERY_SECONDS} s)`,
        );
      return {
        did:
          `POST /v1/sessions {"profile":"dev"} (sent with step 1) → 201 session ${short(vended.sessionId)}, ` +
          `idle window 960 s (${seconds((960 * 1000) / TIME_SCALE)} here), never refreshed`,
        proof:
          `bus: SessionExpired (reason ${String(expired.reason)}, expiresAt ${clockTime(expired.expiresAt)}); ` +
          `row expired at ${clockTime(row.expiredAt)}, ${seconds(lateMs)} after expiresAt (limit: one ${SWEEP_EVERY_SECONDS} s sweep)`,
      };
    },
  },
  {
    title: 'carol is denied by the policy',
    run: async (story) => {
      const refused = await post(story.stack, '/v1/sessions', CAROL, { profile: 'long' });
      expectStatus('POST /v1/sessions for carol', refused, 403);
      const denied = await busEvent(
        story,
        'VendDenied',
        (detail) => detail.principalArn === CAROL && detail.action === 'create',
      );
      if (denied.rule !== 'carol-suspended')
        throw new StepFailure(`VendDenied names rule ${String(denied.rule)}, not carol-suspended`);
      return {
        did: `POST /v1/sessions as carol → 403 ${String(refused.body.code)}: ${String(refused.body.message)}`,
        proof: `bus: VendDenied (user ${String(denied.user)}, rule ${String(denied.rule)}, action create, sessionId ${String(denied.sessionId)})`,
      };
    },
  },
  {
    title: 'an admin revokes alice through the operator API',
    run: async (story) => {
      const alice = needAlice(story);
      const revoked = await post(story.stack, `/v1/sessions/${alice.sessionId}/revoke`, ADMIN, {
        reason: REVOKE_REASON,
      });
      expectStatus('POST /v1/sessions/{id}/revoke', revoked, 200);
      const session = revoked.body.session as Record<string, unknown> | undefined;
      const event = await busEvent(story, 'SessionRevoked', ofSession(alice.sessionId));
      if (event.revokedBy !== ADMIN) throw new StepFailure(`SessionRevoked names ${String(event.revokedBy)}`);
      return {
        did: `POST /v1/sessions/${short(alice.sessionId)}/revoke as admin → 200, status ${String(session?.status)}`,
        proof: `bus: SessionRevoked (by user/admin, reason "${String(event.reason)}")`,
      };
    },
  },
  {
    title: 'the Slack and Teams receivers get the notification',
    run: async (story) => {
      const alice = needAlice(story);
      const channels = await eventually(story, 'RevocationNotified for slack and teams', () => {
        const notified = eventsOf(story.stack, 'RevocationNotified', ofSession(alice.sessionId));
        const slack = notified.find((d) => d.channel === 'slack');
        const teams = notified.find((d) => d.channel === 'teams');
        return slack && teams ? { slack, teams } : undefined;
      });
      const postsOf = (path: string) =>
        story.stack.webhooks.bodiesAt(path).filter((body) => JSON.stringify(body).includes(alice.sessionId));
      const undelivered = Object.entries(channels).filter(([, detail]) => detail.delivered !== true);
      if (undelivered.length > 0)
        throw new StepFailure(
          `RevocationNotified says not delivered to ${undelivered.map(([name]) => name).join(' and ')} ` +
            `(after ${undelivered.map(([name]) => `${postsOf(`/${name}`).length} POSTs to /${name}`).join(', ')})`,
        );
      const postOf = (path: string) => postsOf(path)[0];
      const slack = postOf('/slack');
      const teams = postOf('/teams');
      if (slack === undefined || teams === undefined)
        throw new StepFailure(`no post about ${short(alice.sessionId)} at ${slack ? '/teams' : '/slack'}`);
      return {
        did: 'the revocation fan-out posted to the Slack and Teams webhooks (RevocationNotified delivered=true each)',
        proof: `slack: ${describeSlackMessage(slack)}; teams: ${describeTeamsMessage(teams)}`,
      };
    },
  },
  {
    title: "the verifier now denies alice's credentials",
    run: async (story) => {
      const alice = needAlice(story);
      const decision = await verifySession(alice.callerArn, {
        store: story.stack.store,
        clock: story.stack.clock,
      });
      if (alice.allowedAtStart !== 'Allowed')
        throw new StepFailure(
          `the verifier did not allow alice even before the revocation (${alice.allowedAtStart})`,
        );
      if (decision.outcome !== 'SessionRevoked')
        throw new StepFailure(`verifySession answered ${decision.outcome}, not SessionRevoked`);
      return {
        did: `verifySession(${alice.callerArn}) against the stack's Sessions table`,
        proof: `${alice.allowedAtStart} after step 1, now ${decision.outcome} (${decision.allowed ? '' : decision.detail})`,
      };
    },
  },
  {
    title: 'the deny list holds her session',
    run: async (story) => {
      const alice = needAlice(story);
      const enforcer = story.stack.workflows.accessEnforcer;
      if (!(enforcer instanceof InMemoryAccessEnforcer))
        throw new StepFailure('the stack has no in-memory access enforcer to read the deny list from');
      const denied = await eventually(story, `${short(alice.sessionId)} on ${ROLE_ARN}'s deny list`, () => {
        const ids = enforcer.denied()[ROLE_ARN];
        return ids?.includes(alice.sessionId) ? ids : undefined;
      });
      // bob's session expired on time: nothing of his to deny.
      if (story.bob && denied.includes(story.bob.sessionId))
        throw new StepFailure("bob's expired session is on the deny list too");
      const statements = enforcer
        .policyOf(ROLE_ARN)
        .Statement.map(
          (statement) =>
            `${statement.Effect} ${JSON.stringify(statement.Action)} if ${JSON.stringify(statement.Condition)}`,
        );
      return {
        did: `the revocation enforcer wrote the deny list of role ${parseRoleArn(ROLE_ARN)?.roleName ?? ROLE_ARN}`,
        proof: `denied: [${denied.map(short).join(', ')}]; its policy: ${statements.join('; ')}`,
      };
    },
  },
  {
    title: 'the audit log shows each event once',
    run: async (story) => {
      const { stack } = story;
      const subjects: AuditSubject[] = [];
      if (story.alice)
        subjects.push({
          name: 'alice',
          user: 'alice',
          sessionId: story.alice.sessionId,
          expected: STORY_AUDIT.alice,
        });
      if (story.bob)
        subjects.push({
          name: 'bob',
          user: 'bob',
          sessionId: story.bob.sessionId,
          expected: STORY_AUDIT.bob,
        });
      subjects.push({ name: 'carol', user: 'carol', sessionId: null, expected: STORY_AUDIT.carol });
      if (subjects.length < 3) throw new StepFailure('alice or bob has no session (step 1 or 2 failed)');
      // Late duplicates would come from executions still running: let them end first.
      await stack.workflows.settled();
      const readAudit = async (): Promise<EventEnvelope[]> =>
        (await readFile(stack.auditLogPath, 'utf8'))
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as EventEnvelope);
      // The bus hands an event to its targets after recording it: wait until the file has caught up.
      const published = [...stack.bus.events];
      const audited = await eventually(story, 'audit line for every published event', async () => {
        const lines = await readAudit();
        const ids = new Set(lines.map((event) => event.id));
        return published.every((event) => ids.has(event.id)) ? lines : undefined;
      }).catch(readAudit);
      const counts = checkAuditOnce(audited, published, subjects);
      return {
        did: `read the ${audited.length} lines of ${displayPath(stack.auditLogPath)} (kept), counted by (sessionId, detail-type)`,
        proof: `${counts.join('; ')}; no duplicate, one terminal event each`,
      };
    },
  },
];

// ------------------------------------------------------------------------------------------- main

interface Options {
  readonly breaks: readonly Breakable[];
}

const parseOptions = (argv: readonly string[]): Options | 'help' => {
  if (argv.some((arg) => arg === '--url' || arg.startsWith('--url=')))
    throw new TypeError(
      '--url: the demo does not attach to a running stack; it starts its own (steps 5-7 cannot be proved over HTTP)',
    );
  const { values } = parseArgs({
    args: [...argv],
    options: { break: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const requested = [...(values.break ?? []), ...(process.env.DEMO_BREAK ?? '').split(',')]
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = requested.filter((name) => !(BREAKABLE as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new TypeError(`cannot break ${unknown.join(', ')}: one of ${BREAKABLE.join(', ')}`);
  return { breaks: requested as Breakable[] };
};

const run = async (options: Options): Promise<number> => {
  const startedAt = Date.now();
  const auditLogPath = process.env.DEMO_AUDIT_LOG || join(REPO_ROOT, '.local', 'demo-audit.jsonl');
  say('sentinel-sessions demo: a local stack of its own; STS is offline and its credentials are fake');
  const stack = await startLocalStack({
    timeScale: TIME_SCALE,
    profiles: DEMO_PROFILES,
    policyFile: join(REPO_ROOT, 'local', 'demo-policy.yaml'),
    auditLogPath,
    logLevel: 'SILENT',
    batchingWindowMs: 50,
    // The notifications rule's target: the demo follows revocations through the fan-out instead.
    onNotification: () => {},
  });
  const stopOnSignal = () => {
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const failed: string[] = [];
  try {
    say(
      `stack up in ${seconds(Date.now() - startedAt)}: ${stack.url}, clock ${TIME_SCALE}x, policy local/demo-policy.yaml`,
    );
    if (options.breaks.includes('notifications')) {
      stack.webhooks.failWith('/slack', 503);
      stack.webhooks.failWith('/teams', 503);
      say('BROKEN ON PURPOSE (--break notifications): the Slack and Teams webhooks answer 503');
    }
    say();
    const bobCreated = post(stack, '/v1/sessions', BOB, { profile: 'dev' });
    // Awaited by step 2; until then a failure must not end the process as an unhandled rejection.
    bobCreated.catch(() => {});
    const story: Story = { stack, deadline: startedAt + DEMO_BUDGET_MS, bobCreated };
    for (const [index, step] of STEPS.entries()) {
      const name = `${index + 1}. ${step.title}`;
      const stepStartedAt = Date.now();
      try {
        const report = await step.run(story);
        say(`PASS ${name} (${seconds(Date.now() - stepStartedAt)})`);
        say(`     did:   ${report.did}`);
        say(`     proof: ${report.proof}`);
      } catch (error) {
        failed.push(name);
        say(`FAIL ${name} (${seconds(Date.now() - stepStartedAt)})`);
        say(`     why:   ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    await stack.stop();
  }
  // A test hook: the (fake, offline) credentials the demo was issued, for a scan of its output.
  if (process.env.DEMO_ISSUED_CREDENTIALS_FILE)
    writeFileSync(process.env.DEMO_ISSUED_CREDENTIALS_FILE, JSON.stringify(issued));
  const total = seconds(Date.now() - startedAt);
  say();
  if (failed.length === 0) {
    say(`demo passed: all ${STEPS.length} steps in ${total}`);
    return 0;
  }
  for (const name of failed) say(`demo FAILED at step ${name}`);
  say(`demo failed: ${STEPS.length - failed.length}/${STEPS.length} steps passed in ${total}`);
  return 1;
};

const main = async (): Promise<number> => {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  return run(options);
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `demo could not run: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
    );
    process.exit(1);
  },
);
