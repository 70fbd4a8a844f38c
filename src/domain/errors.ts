/**
 * Named errors of the domain. Handlers map them to responses; nothing here knows about HTTP or AWS.
 * Each carries a stable `code` that is safe to show a caller.
 *
 * Every class states its `name` as a literal: the handlers ship minified, and a name taken from the class
 * (`new.target.name`) would log as whatever the minifier renamed the class to.
 */
export abstract class DomainError extends Error {
  override readonly name: string = 'DomainError';
  abstract readonly code: string;
}

/** The caller's ARN is not a principal that can own a session (root, service, malformed …). */
export class UnsupportedPrincipalError extends DomainError {
  override readonly name = 'UnsupportedPrincipalError';
  readonly code = 'UnsupportedPrincipal';
}

/** A value that breaks a documented bound (durations, lengths, charsets). */
export class InvalidInputError extends DomainError {
  override readonly name = 'InvalidInputError';
  readonly code = 'InvalidInput';
}

/** Configuration read at start-up is missing or invalid; the message names the variable. */
export class ConfigurationError extends DomainError {
  override readonly name = 'ConfigurationError';
  readonly code = 'ConfigurationError';
}

/** A session with this id already exists (ids are random, so this is a retry or a bug). */
export class SessionAlreadyExistsError extends DomainError {
  override readonly name = 'SessionAlreadyExistsError';
  readonly code = 'SessionAlreadyExists';
}

/** A pagination cursor that this system did not issue, or that was tampered with. */
export class InvalidCursorError extends DomainError {
  override readonly name = 'InvalidCursorError';
  readonly code = 'InvalidCursor';
}

/**
 * A stored row that does not hold a well-formed session: corrupted, written by hand, or by another version.
 * Never "store unreachable": a row that cannot be read cannot be shown to be active, so it is a deny.
 */
export class MalformedSessionRecordError extends DomainError {
  override readonly name = 'MalformedSessionRecordError';
  readonly code = 'SessionRecordMalformed';
  /** The row as read, for a caller that may act on what can still be read of it (domain/salvage.ts). */
  readonly item: unknown;

  constructor(message: string, item?: unknown) {
    super(message);
    this.item = item;
  }
}

/**
 * Name, code and message of an error for a log line. SDK messages carry ARNs and reasons, never a
 * credential; nothing else of the error (its metadata, its request) is copied.
 */
export const describeError = (error: unknown): Record<string, string> => {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      errorName: error.name,
      ...(typeof code === 'string' ? { errorCode: code } : {}),
      errorMessage: error.message,
    };
  }
  return { errorName: typeof error };
};

/** Whether `error` is an Error named one of `names` (SDK exceptions are told apart by name). */
export const isNamed = (error: unknown, ...names: readonly string[]): boolean =>
  error instanceof Error && names.includes(error.name);
