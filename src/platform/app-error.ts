/** The one error type routes and use cases throw: an HTTP status, a stable code, a safe message and a cause. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }

  static badRequest(message: string, cause?: unknown): AppError {
    return new AppError(400, 'bad_request', message, { cause });
  }

  static notFound(message = 'Not found'): AppError {
    return new AppError(404, 'not_found', message);
  }
}
