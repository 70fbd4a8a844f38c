/**
 * Named errors of the domain. Handlers map them to responses; nothing here knows about HTTP or AWS.
 * Each carries a stable `code` that is safe to show a caller.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The caller's ARN is not a principal that can own a session (root, service, malformed …). */
export class UnsupportedPrincipalError extends DomainError {
  readonly code = 'UnsupportedPrincipal';
}

/** A value that breaks a documented bound (durations, lengths, charsets). */
export class InvalidInputError extends DomainError {
  readonly code = 'InvalidInput';
}

/** Configuration read at start-up is missing or invalid; the message names the variable. */
export class ConfigurationError extends DomainError {
  readonly code = 'ConfigurationError';
}

/** A session with this id already exists (ids are random, so this is a retry or a bug). */
export class SessionAlreadyExistsError extends DomainError {
  readonly code = 'SessionAlreadyExists';
}

/** A pagination cursor that this system did not issue, or that was tampered with. */
export class InvalidCursorError extends DomainError {
  readonly code = 'InvalidCursor';
}
