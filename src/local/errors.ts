/**
 * The one error of the local AWS services: the AWS error type (the JSON protocols' `__type`, STS's `<Code>`),
 * the message, and the HTTP status AWS answers it with. The AWS port turns it into each protocol's wire shape.
 */
export class LocalServiceError extends Error {
  override readonly name = 'LocalServiceError';

  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }

  /** `error` as a local service answers it: its own errors as they are, anything else a 500 of `internalType`. */
  static from(error: unknown, internalType: string): LocalServiceError {
    if (error instanceof LocalServiceError) return error;
    return new LocalServiceError(internalType, error instanceof Error ? error.message : String(error), 500);
  }
}
