/**
 * An SDK error of one of doctor's reads, as the fact it is (doctor/facts.ts ReadFailure): a resource that is not
 * there, credentials that may not read it, or another failure (retryable ones were retried by the SDK first).
 */
import type { ReadFailure } from '../doctor/facts';
import { errorName } from './aws-errors';

const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedAccess', 'InvalidClientTokenId', 'UnrecognizedClientException', 'ExpiredToken', 'ExpiredTokenException', 'SignatureDoesNotMatch', 'MissingAuthenticationToken']);
const MISSING = new Set(['NoSuchEntity', 'NoSuchEntityException']);

/** `missingWhen`: EMR answers InvalidRequestException for an unknown cluster or security configuration, and for bad input too: told apart by its message. */
export function readFailure(operation: string, resource: string, error: unknown, missingWhen?: RegExp): ReadFailure {
  const name = errorName(error);
  // The SDK's own names for a missing credential chain: no request was made.
  const code = name === 'CredentialsProviderError' ? 'NoCredentials' : name.replace(/Exception$/, '') === 'NoSuchEntity' ? 'NoSuchEntity' : name;
  const message = error instanceof Error ? error.message.slice(0, 500) : String(error);
  const kind = MISSING.has(name) || (missingWhen !== undefined && missingWhen.test(message)) ? 'missing' : DENIED.has(name) || code === 'NoCredentials' ? 'denied' : 'failed';
  return { kind, operation, resource, code, message };
}
