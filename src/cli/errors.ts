/**
 * The two ways a command ends badly. A CliError carries its exit code: 2 for a usage mistake (nothing was
 * sent), 1 for a refusal or a failure. An ApiError is the API's own `{code, message}` answer.
 *
 * Names are literals: the CLI ships minified, and a class name would be renamed.
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode: typeof EXIT_FAILED | typeof EXIT_USAGE,
  ) {
    super(message);
  }
}

/** A mistake in the command line: exit 2, and nothing was sent. */
export const usageError = (message: string): CliError => new CliError(message, EXIT_USAGE);

/** Refused or failed: exit 1. */
export const failure = (message: string): CliError => new CliError(message, EXIT_FAILED);

/** A 4xx/5xx answer of the API, with its error code (absent when API Gateway itself answered). */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    /** The whole JSON body (some refusals carry more than code and message). */
    readonly body: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}
