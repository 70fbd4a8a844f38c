/** Ports the local stack listens on: a busy one is reported as such, before anything else is started. */
import { createServer } from 'node:net';

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    /** Which piece wanted it, e.g. "HTTP API". */
    readonly purpose: string,
  ) {
    super(`port ${port} is in use (${purpose})`);
  }
}

/** The error a failed listen() gives, as a PortInUseError when the port is taken. */
export const listenError = (error: unknown, port: number, purpose: string): unknown =>
  (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE'
    ? new PortInUseError(port, purpose)
    : error;

/**
 * Rejects with PortInUseError when `port` cannot be bound on `host` right now. Checked up front so a busy
 * port fails in milliseconds instead of after DynamoDB Local's start; the real listen still handles a race.
 */
export const assertPortFree = (port: number, purpose: string, host = '127.0.0.1'): Promise<void> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', (error) => reject(listenError(error, port, purpose)));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
