/**
 * Lets the local stack stop when whoever launched it is gone. `npm start` runs `sh -c "tsx local/start.ts"`
 * and tsx runs this code in a child node; on SIGTERM npm forwards the signal to the shell only, which dies of
 * it and leaves tsx and this process running with nobody to stop them. So the stack watches its launchers
 * (the ancestors in its own process group, up to npm) and shuts down when one of them is gone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly command: string;
}

const HAS_PROC = existsSync('/proc/self/stat');

/** Linux: /proc; an exited but unreaped process (zombie) counts as gone. */
const fromProc = (pid: number): ProcessInfo | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
    const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z' || state === 'X') return undefined;
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return { pid, ppid: Number(ppid), pgid: Number(pgid), command };
  } catch {
    return undefined;
  }
};

/** Elsewhere (macOS): ps, used only to find the launchers once. */
const fromPs = (pid: number): ProcessInfo | undefined => {
  try {
    const line = execFileSync('ps', ['-o', 'ppid=,pgid=,command=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const match = /^(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    return match
      ? { pid, ppid: Number(match[1]), pgid: Number(match[2]), command: match[3] ?? '' }
      : undefined;
  } catch {
    return undefined;
  }
};

export const processInfo = (pid: number): ProcessInfo | undefined => (HAS_PROC ? fromProc(pid) : fromPs(pid));

/** npm's own process, whether it shows its title ("npm start") or its script path. */
const NPM = /(^|\/)npm(-cli\.js)?(\s|$)/;

/** This process's ancestors in its own process group, nearest first, stopping at npm. */
export const launchers = (): ProcessInfo[] => {
  const self = processInfo(process.pid);
  if (!self) return [];
  const chain: ProcessInfo[] = [];
  // pid 1 included: in a container npm may be the init process.
  for (let pid = self.ppid; pid > 0 && chain.length < 6; ) {
    const parent = processInfo(pid);
    // An interactive shell puts each job in a group of its own: the shell itself is not a launcher.
    if (!parent || parent.pgid !== self.pgid) break;
    chain.push(parent);
    if (NPM.test(parent.command)) break;
    pid = parent.ppid;
  }
  return chain;
};

const isRunning = (launcher: ProcessInfo): boolean => {
  if (HAS_PROC) return fromProc(launcher.pid)?.command === launcher.command;
  try {
    process.kill(launcher.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Calls `onGone` once, when this process's parent or one of its launchers has exited; returns a stop function.
 * With `expectNpm` (run by `npm start`), npm missing from the launchers means it has exited already: a
 * SIGTERM can come while tsx is still loading this code.
 */
export const watchLaunchers = (
  onGone: (which: string) => void,
  options: { readonly expectNpm?: boolean; readonly intervalMs?: number } = {},
): (() => void) => {
  const parent = process.ppid;
  const chain = launchers();
  if (options.expectNpm && !chain.some((launcher) => NPM.test(launcher.command))) {
    setImmediate(() => onGone('npm'));
    return () => undefined;
  }
  const timer = setInterval(() => {
    const gone =
      process.ppid !== parent ? `parent process ${parent}` : chain.find((p) => !isRunning(p))?.command;
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, options.intervalMs ?? 200);
  timer.unref();
  return () => clearInterval(timer);
};
