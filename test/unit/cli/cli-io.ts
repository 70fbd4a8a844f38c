/**
 * A CliIo for tests: captured output, an in-memory environment, a scripted API behind `fetch`, static
 * signing credentials, a temporary home. Each test gets its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { CliIo } from '../../../src/cli/program.js';
import { runCli } from '../../../src/cli/program.js';

export const LOCAL_API = 'http://127.0.0.1:3999';
export const AWS_API = 'https://abc123defg.execute-api.eu-west-1.amazonaws.com';
export const ALICE = 'arn:aws:iam::123456789012:user/alice';
export const ADMIN = 'arn:aws:iam::123456789012:user/admin';

export interface RecordedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export type Route = (request: RecordedRequest) => { status: number; body: unknown } | Response;

export interface TestCli {
  /** The environment each run starts from (a run gets its own copy, as a process does). */
  readonly env: Record<string, string | undefined>;
  /** The environment of the run in progress, as its child processes would inherit it. */
  readonly runningEnv: () => Record<string, string | undefined>;
  readonly requests: RecordedRequest[];
  readonly home: string;
  /** Routes by `METHOD /path` (query ignored); a missing one answers 404 Not Found as API Gateway does. */
  readonly routes: Map<string, Route>;
  run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A run in a given environment (a child process started by a run). */
  runIn(
    env: Record<string, string | undefined>,
    ...args: string[]
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  cleanup(): void;
}

export const testCli = (overrides: Partial<CliIo> = {}): TestCli => {
  const home = mkdtempSync(join(tmpdir(), 'sentinel-cli-'));
  const env: Record<string, string | undefined> = { XDG_CACHE_HOME: join(home, 'cache') };
  const requests: RecordedRequest[] = [];
  const routes = new Map<string, Route>();
  let running: Record<string, string | undefined> = env;
  const base: Omit<CliIo, 'env' | 'setEnv' | 'stdout' | 'stderr'> = {
    fetch: async (input, init) => {
      const url = new URL(input);
      const headers = Object.fromEntries(
        Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
      const request = { method: init.method ?? 'GET', url, headers, body };
      requests.push(request);
      const route = routes.get(`${request.method} ${url.pathname}`);
      if (!route) return Response.json({ message: 'Not Found' }, { status: 404 });
      const answer = route(request);
      return answer instanceof Response ? answer : Response.json(answer.body, { status: answer.status });
    },
    credentials: () => async () => ({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    }),
    logsClient: () => new CloudWatchLogsClient({ region: 'eu-west-1' }),
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
    signal: new AbortController().signal,
    home,
    cwd: home,
    lock: { pid: process.pid, hostname: 'test-host', isAlive: () => true },
    ...overrides,
  };
  const runIn = async (startEnv: Record<string, string | undefined>, ...args: string[]) => {
    const runEnv = { ...startEnv };
    running = runEnv;
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, {
      ...base,
      env: runEnv,
      setEnv: (name, value) => {
        runEnv[name] = value;
      },
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
    });
    return { code, stdout, stderr };
  };
  return {
    env,
    runningEnv: () => running,
    requests,
    home,
    routes,
    run: (...args) => runIn(env, ...args),
    runIn,
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
};
