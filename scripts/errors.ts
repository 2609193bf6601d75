/** The packaging scripts' own error, and their one printer for it and for configuration errors. */
import { ConfigError, formatConfigIssue } from '../src/errors';

/** Something packaging cannot do or deploy (bad flags, an undeployable configuration, osls failing): exit 1. */
export class PackagingError extends Error {}

/** Prints a configuration or packaging error for people and gives the exit code (2: the config, 1: packaging). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError) {
    console.error(`invalid configuration:\n${error.issues.map((i) => `  ${formatConfigIssue(i)}`).join('\n')}`);
    return 2;
  }
  if (error instanceof PackagingError) {
    console.error(error.message);
    return 1;
  }
  throw error;
}
