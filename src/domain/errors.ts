/** A request the API refuses before any use case runs: it carries the HTTP status and the public code. */
export class HttpRequestError extends Error {
  override readonly name = 'HttpRequestError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
