/**
 * The `sentinel-sessions` executable (bundled to dist/cli/sentinel-sessions.mjs by scripts/build.ts): wires
 * the real process, network, credential chain and clock into the command line in program.ts.
 */
import { homedir, hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { processAlive } from './lock.js';
import { runCli } from './program.js';

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());

const exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  setEnv: (name, value) => {
    process.env[name] = value;
  },
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  fetch: (input, init) => fetch(input, init),
  credentials: (awsProfile) => defaultProvider(awsProfile ? { profile: awsProfile } : {}),
  logsClient: ({ region, awsProfile }) =>
    new CloudWatchLogsClient({
      ...(region ? { region } : {}),
      ...(awsProfile ? { profile: awsProfile } : {}),
      credentials: defaultProvider(awsProfile ? { profile: awsProfile } : {}),
    }),
  now: () => new Date(),
  sleep: async (ms, signal) => {
    try {
      await sleep(ms, undefined, signal ? { signal } : {});
    } catch {
      // Aborted: the caller sees the signal and stops.
    }
  },
  signal: stop.signal,
  home: homedir(),
  cwd: process.cwd(),
  lock: { pid: process.pid, hostname: hostname(), isAlive: processAlive },
});
// Exit now (idle keep-alive sockets or credential-provider timers must not hold the process open), once
// stdout has taken everything written to it.
process.stdout.write('', () => process.exit(exitCode));
