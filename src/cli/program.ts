/**
 * The `sentinel-sessions` command line: verbs, options, and what each prints. Everything the process
 * touches (environment, output, network, credentials, clock, file locations) comes in through `CliIo`, so
 * tests drive the same code main.ts runs.
 *
 * Exit codes: 0 done; 1 refused or failed (the API said no, could not be reached, answered nonsense); 2 a
 * usage mistake, found before anything was sent.
 */
import { join } from 'node:path';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isSessionId } from '../domain/ids.js';
import { isCanonicalUser, revokeReasonProblem } from '../domain/operators.js';
import { credentialProcess, guardRecursion, takeRecursionReport } from './credential-process.js';
import { ApiError, CliError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, failure, usageError } from './errors.js';
import { type RevokeUserResult, revokeUserOutput, sessionsTable, showOutput } from './format.js';
import { type ApiClient, createApiClient, type Fetch, type JsonObject } from './http.js';
import type { LockOptions } from './lock.js';
import { cacheDirectory, ensurePrivateDirectory, SessionCache } from './session-cache.js';
import { type CredentialSource, createSigner } from './sigv4.js';
import { parseSince, tailAws, tailLocal } from './tail.js';
import {
  API_URL_ENV,
  type CommonOptions,
  isLocalUrl,
  LOCAL_CALLER_ENV,
  regionFromHost,
  resolveTarget,
} from './target.js';

export const AUDIT_LOG_ENV = 'SENTINEL_AUDIT_LOG';

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Sets a variable for the child processes this one starts (credential providers). */
  readonly setEnv: (name: string, value: string) => void;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly fetch: Fetch;
  /** The SDK's default credential chain, for a named AWS profile or the default one. */
  readonly credentials: (awsProfile: string | undefined) => CredentialSource;
  readonly logsClient: (input: { region?: string; awsProfile?: string }) => CloudWatchLogsClient;
  readonly now: () => Date;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Aborted on SIGINT/SIGTERM: `tail` stops following. */
  readonly signal: AbortSignal;
  readonly home: string;
  readonly cwd: string;
  readonly lock: Pick<LockOptions, 'pid' | 'hostname' | 'isAlive'> & Partial<LockOptions>;
}

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

const apiFailure = (error: ApiError): CliError =>
  failure(`${error.code ?? `HTTP ${error.status}`}: ${error.message}`);

const integer =
  (name: string, min: number, max: number) =>
  (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return Number(value);
  };

/** The server's own rules (src/domain/operators.ts), checked before anything is sent. */
const reason = (value: string): string => {
  const problem = revokeReasonProblem(value);
  if (problem !== undefined) throw new InvalidArgumentError(problem.replace('"reason"', 'the reason'));
  return value;
};

const sessionIdArgument = (value: string): string => {
  if (!isSessionId(value)) throw new InvalidArgumentError('a session id is 32 lowercase hex characters');
  return value;
};

/** A canonical user: `<name>` or `<role name>/<session name>`. */
const userArgument = (value: string): string => {
  if (!isCanonicalUser(value)) {
    throw new InvalidArgumentError(
      'a user is <name> or <role name>/<session name> (letters, digits and +=,.@_-; one / at most)',
    );
  }
  return value;
};

/** The user goes into one path segment; the server decodes a remaining %2F, so the / is escaped twice. */
export const userPathSegment = (user: string): string => encodeURIComponent(user).replace(/%2F/g, '%252F');

const EXAMPLE = (lines: string): string => `\nExample:\n${lines}`;

const connection = (command: Command, options: { json: boolean }): Command => {
  command
    .option('--api <url>', `the API's base URL (env ${API_URL_ENV})`)
    .option('--region <region>', "the API's region (default: read from the execute-api URL)")
    .option(
      '--aws-profile <name>',
      'the AWS named profile whose credentials sign the requests (default: the SDK default chain)',
    )
    .option('--local', 'use the local stack (npm start): no SigV4, a caller header instead')
    .option(
      '--caller <arn>',
      `local stack only: the caller's IAM ARN (env ${LOCAL_CALLER_ENV}); never sent elsewhere`,
    );
  if (options.json) command.option('--json', "print the API's JSON");
  return command;
};

/** `explain` may turn a credential failure into a clearer error (a child credential_process that refused). */
const connect = (options: CommonOptions, io: CliIo, explain?: () => CliError | undefined): ApiClient => {
  const target = resolveTarget(options, io.env);
  if (target.kind === 'local') return createApiClient({ target, fetch: io.fetch });
  const provider = io.credentials(target.awsProfile);
  const signingWith = target.awsProfile ? `AWS profile ${target.awsProfile}` : 'the SDK default chain';
  const credentials: CredentialSource = async () => {
    try {
      return await provider();
    } catch (error) {
      if (error instanceof CliError) throw error;
      const explained = explain?.();
      if (explained) throw explained;
      throw failure(
        `cannot load the AWS credentials that sign requests (${signingWith}): ${firstLine(error)}`,
      );
    }
  };
  return createApiClient({
    target,
    fetch: io.fetch,
    signer: createSigner({ region: target.region, credentials }),
  });
};

const printJson = (io: CliIo, value: unknown): void => io.stdout(`${JSON.stringify(value, null, 2)}\n`);

interface CredentialProcessOptions extends CommonOptions {
  readonly profile: string;
  readonly duration?: number;
  readonly newSession?: boolean;
}

interface ListOptions extends CommonOptions {
  readonly user?: string;
  readonly principal?: string;
  readonly profile?: string;
  readonly status?: 'active';
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

interface TailCommandOptions extends CommonOptions {
  readonly since: string;
  readonly follow: boolean;
  readonly auditFile?: string;
  readonly logGroup?: string;
  readonly stage: string;
  readonly pollInterval?: number;
}

/** `--all` stops here: a runaway cursor must not loop for ever. */
const MAX_PAGES = 1000;

const buildProgram = (io: CliIo): Command => {
  const program = new Command('sentinel-sessions')
    .description('Short-lived AWS credentials from the sentinel-sessions API, and the operator verbs.')
    .addHelpText(
      'after',
      '\n--profile always names a sentinel (vend) profile, never an AWS profile. The AWS profile whose\n' +
        'credentials sign the requests is --aws-profile. Exit codes: 0 done, 1 refused or failed, 2 usage.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
    })
    // A usage mistake shows the command's usage and options.
    .showHelpAfterError(true);

  connection(
    program
      .command('credential-process')
      .description(
        "print credentials in the AWS CLI's credential_process format, starting or refreshing a cached session",
      )
      .requiredOption('--profile <name>', 'the sentinel profile to vend (not an AWS profile)')
      .option(
        '--duration <seconds>',
        "the credentials' lifetime on a new session",
        integer('--duration', 900, 43_200),
      )
      .option('--new-session', 'start a new session even if one is cached (also clears a revoked one)'),
    { json: false },
  )
    .addHelpText(
      'after',
      EXAMPLE(
        '  # ~/.aws/config\n  [profile sentinel-dev]\n' +
          '  credential_process = sentinel-sessions credential-process --api https://abc123.execute-api.eu-west-1.amazonaws.com --profile dev --aws-profile corp-sso',
      ),
    )
    .action(async (options: CredentialProcessOptions) => {
      const target = resolveTarget(options, io.env);
      const dir = cacheDirectory(io.env, io.home);
      ensurePrivateDirectory(dir);
      const reportPath = join(dir, `recursion-${io.lock.pid}.txt`);
      guardRecursion({
        env: io.env,
        setEnv: io.setEnv,
        api: target.base.href,
        profile: options.profile,
        reportPath,
      });
      const signer =
        target.kind === 'local'
          ? `caller:${target.callerArn}`
          : `aws-profile:${target.awsProfile ?? io.env.AWS_PROFILE ?? '(default chain)'}`;
      const explain = () => {
        const reported = takeRecursionReport(reportPath);
        return reported === undefined ? undefined : usageError(reported);
      };
      const output = await credentialProcess({
        api: connect(options, io, explain),
        cache: new SessionCache(dir, { api: target.base.href, profile: options.profile, signer }),
        lock: {
          waitMs: 40_000,
          staleMs: 90_000,
          pollMs: 50,
          now: () => io.now().getTime(),
          sleep: (ms) => io.sleep(ms),
          ...io.lock,
        },
        now: io.now,
        profile: options.profile,
        ...(options.duration === undefined ? {} : { durationSeconds: options.duration }),
        newSession: options.newSession === true,
      });
      io.stdout(`${JSON.stringify(output)}\n`);
    });

  connection(
    program
      .command('list')
      .description("list sessions: your own, or (admins) anyone's")
      .option('--user <user>', 'only this canonical user (admin, unless it is you)')
      .option('--principal <arn>', 'only this principal ARN (admin, unless it is you)')
      .option('--profile <name>', 'only this sentinel profile (not an AWS profile)')
      .addOption(
        new Option('--status <status>', 'only active sessions, soonest expiry first').choices(['active']),
      )
      .option('--limit <n>', 'sessions per page', integer('--limit', 1, 1000))
      .option('--cursor <cursor>', 'continue from a previous page')
      .option('--all', 'follow every page'),
    { json: true },
  )
    .addHelpText('after', EXAMPLE('  $ sentinel-sessions list --api $SENTINEL_API_URL --status active --all'))
    .action(async (options: ListOptions) => {
      const api = connect(options, io);
      const sessions: JsonObject[] = [];
      let cursor = options.cursor;
      let last: JsonObject = {};
      for (let page = 0; page < MAX_PAGES; page++) {
        last = await api.request({
          method: 'GET',
          path: '/v1/sessions',
          query: {
            limit: options.limit === undefined ? undefined : String(options.limit),
            cursor,
            user: options.user,
            principal: options.principal,
            profile: options.profile,
            status: options.status,
          },
        });
        if (!Array.isArray(last.sessions)) throw failure('the API answered a list without sessions');
        sessions.push(...(last.sessions as JsonObject[]));
        cursor = typeof last.nextCursor === 'string' ? last.nextCursor : undefined;
        if (!options.all || cursor === undefined) break;
      }
      if (options.json) {
        printJson(io, options.all ? { sessions } : last);
        return;
      }
      io.stdout(`${sessionsTable(sessions)}\n`);
      if (cursor !== undefined && !options.all) io.stdout(`(more: --cursor ${cursor}, or --all)\n`);
    });

  connection(
    program
      .command('show')
      .description('one session, with its workflow executions')
      .argument('<sessionId>', 'the session id (32 hex characters)', sessionIdArgument),
    { json: true },
  )
    .addHelpText(
      'after',
      EXAMPLE('  $ sentinel-sessions show 3f2a9c0e8b7d4e1fa0b1c2d3e4f5a6b7 --api $SENTINEL_API_URL'),
    )
    .action(async (sessionId: string, options: CommonOptions) => {
      const body = await connect(options, io).request({ method: 'GET', path: `/v1/sessions/${sessionId}` });
      if (options.json) printJson(io, body);
      else io.stdout(`${showOutput(body)}\n`);
    });

  connection(
    program
      .command('revoke')
      .description('revoke one session: its refreshes stop and its credentials are denied')
      .argument('<sessionId>', 'the session id (32 hex characters)', sessionIdArgument)
      .requiredOption('--reason <text>', 'why (1-256 characters; recorded and announced)', reason),
    { json: true },
  )
    .addHelpText(
      'after',
      EXAMPLE(
        '  $ sentinel-sessions revoke 3f2a9c0e8b7d4e1fa0b1c2d3e4f5a6b7 --reason "laptop lost" --api $SENTINEL_API_URL',
      ),
    )
    .action(async (sessionId: string, options: CommonOptions & { reason: string }) => {
      let body: JsonObject;
      try {
        body = await connect(options, io).request({
          method: 'POST',
          path: `/v1/sessions/${sessionId}/revoke`,
          body: { reason: options.reason },
        });
      } catch (error) {
        if (error instanceof ApiError && error.code === 'SessionAlreadyTerminal') {
          throw failure(
            `session ${sessionId} has already ended (${String(error.body.status ?? 'terminal')})`,
          );
        }
        throw error;
      }
      if (options.json) printJson(io, body);
      else io.stdout(`revoked\n${showOutput({ session: body.session ?? {} })}\n`);
    });

  connection(
    program
      .command('revoke-user')
      .description('revoke every active session of one user (admin only); exits 1 unless all were handled')
      .argument('<user>', 'the canonical user: <name> or <role name>/<session name>', userArgument)
      .requiredOption('--reason <text>', 'why (1-256 characters; recorded and announced)', reason),
    { json: true },
  )
    .addHelpText(
      'after',
      EXAMPLE('  $ sentinel-sessions revoke-user alice --reason "left the company" --api $SENTINEL_API_URL'),
    )
    .action(async (user: string, options: CommonOptions & { reason: string }) => {
      const body = await connect(options, io).request({
        method: 'POST',
        path: `/v1/users/${userPathSegment(user)}/revoke`,
        body: { reason: options.reason },
      });
      const result = body as Partial<RevokeUserResult>;
      if (
        typeof result.revoked !== 'number' ||
        typeof result.failed !== 'number' ||
        typeof result.alreadyTerminal !== 'number' ||
        typeof result.complete !== 'boolean'
      ) {
        throw failure('the API answered revoke-user without its counts');
      }
      const counts: RevokeUserResult = {
        user: typeof result.user === 'string' ? result.user : user,
        revoked: result.revoked,
        alreadyTerminal: result.alreadyTerminal,
        failed: result.failed,
        failedSessionIds: Array.isArray(result.failedSessionIds) ? result.failedSessionIds.map(String) : [],
        complete: result.complete,
      };
      if (options.json) printJson(io, body);
      else io.stdout(`${revokeUserOutput(counts)}\n`);
      if (counts.failed > 0 || !counts.complete) {
        throw failure(`revoke-user ${user} is not finished: run it again`);
      }
    });

  program
    .command('tail')
    .description('follow the audit trail: every session event, one line each')
    .option('--since <when>', 'from this long ago (30s, 10m, 2h, 1d) or an ISO-8601 time', '10m')
    .option('--no-follow', 'print what is there and stop')
    .option('--json', 'print each event as its JSON')
    .option('--stage <stage>', 'the stack stage, naming the audit log group', 'dev')
    .option(
      '--log-group <name>',
      'the audit log group (default: /aws/events/sentinel-sessions-audit-<stage>)',
    )
    .option('--region <region>', "the log group's region (default: from --api, else the SDK's)")
    .option('--aws-profile <name>', 'the AWS named profile to read the log group with')
    .option(
      '--api <url>',
      `read the region from this execute-api URL; a local URL means --local (env ${API_URL_ENV})`,
    )
    .option('--local', "follow the local stack's audit file instead")
    .option(
      '--audit-file <path>',
      `local: the audit file (env ${AUDIT_LOG_ENV}; default .local/audit.jsonl here)`,
    )
    .option(
      '--poll-interval <ms>',
      'how often to look for new events',
      integer('--poll-interval', 100, 60_000),
    )
    .addHelpText(
      'after',
      EXAMPLE(
        '  $ sentinel-sessions tail --stage prod --region eu-west-1 --since 1h\n  $ sentinel-sessions tail --local',
      ),
    )
    .action(async (options: TailCommandOptions) => {
      const api = options.api ?? io.env[API_URL_ENV];
      let apiUrl: URL | undefined;
      try {
        apiUrl = api ? new URL(api) : undefined;
      } catch {
        throw usageError(`--api: not a URL: ${JSON.stringify(api)}`);
      }
      const local =
        options.local === true ||
        options.auditFile !== undefined ||
        (apiUrl !== undefined && isLocalUrl(apiUrl));
      if (!/^[A-Za-z0-9-]{1,64}$/.test(options.stage))
        throw usageError('--stage: letters, digits and - only');
      const tail = {
        startTime: parseSince(options.since, io.now().getTime()),
        follow: options.follow,
        json: options.json === true,
        signal: io.signal,
        sleep: (ms: number, signal: AbortSignal) => io.sleep(ms, signal),
        out: (line: string) => io.stdout(`${line}\n`),
        warn: (line: string) => io.stderr(`sentinel-sessions: ${line}\n`),
      };
      if (local) {
        const path = options.auditFile ?? io.env[AUDIT_LOG_ENV] ?? join(io.cwd, '.local', 'audit.jsonl');
        await tailLocal(path, { ...tail, pollMs: options.pollInterval ?? 500 });
        return;
      }
      const region = options.region ?? (apiUrl ? regionFromHost(apiUrl.hostname) : undefined);
      const client = io.logsClient({
        ...(region ? { region } : {}),
        ...(options.awsProfile ? { awsProfile: options.awsProfile } : {}),
      });
      try {
        await tailAws(client, options.logGroup ?? `/aws/events/sentinel-sessions-audit-${options.stage}`, {
          ...tail,
          pollMs: options.pollInterval ?? 2000,
        });
      } finally {
        client.destroy();
      }
    });

  return program;
};

/** Runs one command line (without node and the script); resolves to the exit code. */
export const runCli = async (args: readonly string[], io: CliIo): Promise<number> => {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, on purpose.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? EXIT_OK
        : EXIT_USAGE;
    }
    if (error instanceof CliError) {
      io.stderr(`sentinel-sessions: ${error.message}\n`);
      if (error.exitCode === EXIT_USAGE) {
        const verb = program.commands.find((command) => command.name() === args[0]);
        io.stderr(`Usage: sentinel-sessions ${verb ? `${verb.name()} ${verb.usage()}` : program.usage()}\n`);
      }
      return error.exitCode;
    }
    if (error instanceof ApiError) {
      io.stderr(`sentinel-sessions: ${apiFailure(error).message}\n`);
      return EXIT_FAILED;
    }
    // Something unforeseen: one line, never a stack trace or an SDK object that could carry a secret.
    io.stderr(
      `sentinel-sessions: ${error instanceof Error ? `${error.name}: ${firstLine(error)}` : 'failed'}\n`,
    );
    return EXIT_FAILED;
  }
};
