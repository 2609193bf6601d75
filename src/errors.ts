/**
 * Typed domain errors. Each carries a stable `code`; the HTTP layer (one place) maps codes to statuses.
 * Messages of 4xx-class errors are safe to show to callers; `cause` keeps the underlying error.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem with a caller's input, naming the field (a dotted path such as `step.args[3]`). */
export interface FieldIssue {
  field: string;
  message: string;
}

/** Bad input from outside: a request body, a CLI flag, a query parameter. */
export class ValidationError extends DomainError {
  readonly code = 'ValidationError';
  constructor(readonly issues: readonly FieldIssue[], options?: { cause?: unknown }) {
    super(issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; '), options);
  }
  static single(field: string, message: string): ValidationError {
    return new ValidationError([{ field, message }]);
  }
}

/** One problem in the configuration file: the file, the path inside it (e.g. `policies.team-a.Statement[0].Effect`), what is wrong. */
export interface ConfigIssue {
  file: string;
  path: string;
  message: string;
}

export class ConfigError extends DomainError {
  readonly code = 'ConfigError';
  constructor(readonly issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super(issues.map(formatConfigIssue).join('\n'), options);
  }
}

export function formatConfigIssue(issue: ConfigIssue): string {
  return `${issue.file}: ${issue.path || '(top level)'}: ${issue.message}`;
}

/** The thing asked for does not exist (or the caller may not know it exists). */
export class NotFoundError extends DomainError {
  readonly code = 'NotFound';
}

/** The request conflicts with the current state: an idempotency key reused with another body, cancelling a finished job. */
export class ConflictError extends DomainError {
  readonly code = 'Conflict';
  constructor(message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

/** The policy said no. Carries the decision's reason (shown to the caller with a 403). */
export class ForbiddenError extends DomainError {
  readonly code = 'Forbidden';
  constructor(message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}
