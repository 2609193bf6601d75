/**
 * Every domain error, in one file. Each carries a stable `code` (the HTTP layer maps codes to statuses, in one
 * place), a literal `name` (so minification cannot rename what Step Functions' Retry and the audit trail match
 * on) and keeps `cause`. Messages of 4xx-class errors are safe to show to callers. Adapters translate SDK
 * errors into these; the domain never sees an SDK error name.
 */
import { formatPath, type Path } from './util/format';

export interface ErrorOptions {
  cause?: unknown;
}

export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract override readonly name: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
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
  override readonly name = 'ValidationError';
  constructor(readonly issues: readonly FieldIssue[], options?: ErrorOptions) {
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
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly ConfigIssue[], options?: ErrorOptions) {
    super(issues.map(formatConfigIssue).join('\n'), options);
  }
}

export function formatConfigIssue(issue: ConfigIssue): string {
  return `${issue.file}: ${issue.path || '(top level)'}: ${issue.message}`;
}

/** A problem in a policy document, with its path inside the document (e.g. `Statement[1].Condition.StringLike`). */
export interface PolicyIssue {
  path: Path;
  message: string;
}

/** A policy document that does not compile; lists every problem found. */
export class PolicyCompileError extends DomainError {
  readonly code = 'PolicyCompileError';
  override readonly name = 'PolicyCompileError';
  constructor(readonly policy: string, readonly issues: readonly PolicyIssue[], options?: ErrorOptions) {
    super(issues.map((i) => `${policy}: ${formatPath(i.path) || '(document)'}: ${i.message}`).join('\n'), options);
  }
}

/**
 * The thing asked for does not exist (or the caller may not know it exists). `code` says which thing, where a
 * caller acts on the difference (LogNotYetWritten: ask again later); NotFound otherwise.
 */
export class NotFoundError extends DomainError {
  readonly code: string;
  override readonly name = 'NotFoundError';
  constructor(message: string, options?: ErrorOptions & { code?: string }) {
    super(message, options);
    this.code = options?.code ?? 'NotFound';
  }
}

/** The request conflicts with the current state: an idempotency key reused with another body, cancelling a finished job. */
export class ConflictError extends DomainError {
  readonly code = 'Conflict';
  override readonly name = 'ConflictError';
  constructor(message: string, readonly details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The policy said no. Carries the decision's reason (shown to the caller with a 403). */
export class ForbiddenError extends DomainError {
  readonly code = 'Forbidden';
  override readonly name = 'ForbiddenError';
  constructor(message: string, readonly details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A failure a retry may cure (throttling, 5xx, timeouts, a dropped connection): the state machine retries it
 * with jittered backoff; the API answers 429/503 with Retry-After. `throttled` tells the two apart.
 */
export class TransientError extends DomainError {
  readonly code = 'Gateway.Transient';
  /** The error name the ASL's Retry matches (statemachines/submit-job.asl.json). */
  override readonly name = 'Gateway.Transient';
  readonly throttled: boolean;
  /** What failed, safe to show to a caller (e.g. `DynamoDB PutItem: ThrottlingException`); the message may say more. */
  readonly dependency: string;
  constructor(message: string, options?: ErrorOptions & { throttled?: boolean; dependency?: string }) {
    super(message, options);
    this.throttled = options?.throttled ?? false;
    this.dependency = options?.dependency ?? message;
  }
}

/**
 * A cluster's queue (or a principal group's on it) is full: the job is not accepted, nothing but its decision is
 * recorded; the API answers 429 with Retry-After (queues.ts).
 */
export class QueueFullError extends DomainError {
  readonly code = 'QueueFull';
  override readonly name = 'QueueFullError';
  constructor(message: string, readonly retryAfterSeconds: number, readonly details: Record<string, unknown>) {
    super(message);
  }
}

/** EMR refused the step for good (ValidationException: e.g. a runtime role on a cluster without runtime roles). */
export class EmrRejectedError extends DomainError {
  readonly code = 'EmrRejected';
  override readonly name = 'EmrRejectedError';
  /** Who refused: EMR, or STS when the gateway could not assume a cluster's access role in its account. */
  readonly by: 'EMR' | 'STS';
  constructor(message: string, readonly emrError: string, options?: ErrorOptions & { by?: 'EMR' | 'STS' }) {
    super(message, options);
    this.by = options?.by ?? 'EMR';
  }
}

/** A job record that should exist does not, or changed too often to update: a 500, retried by the workflow's Catch. */
export class JobConflictError extends DomainError {
  readonly code = 'JobConflict';
  override readonly name = 'JobConflictError';
}

/** Too many writers raced for the next seq of one audit chain. */
export class AuditContentionError extends DomainError {
  readonly code = 'AuditContention';
  override readonly name = 'AuditContentionError';
}

/** A stored record is not what the gateway wrote (a missing event it had read a moment before, a malformed answer). */
export class IntegrityError extends DomainError {
  readonly code = 'Integrity';
  override readonly name = 'IntegrityError';
}

/**
 * The audit key cannot be used (KMS: no such key, disabled, pending deletion, not an HMAC key, no permission):
 * nothing can be audited, so nothing proceeds. A 500; the workflow's Catch fails the job.
 */
export class AuditKeyError extends DomainError {
  readonly code = 'AuditKey';
  override readonly name = 'AuditKeyError';
}
