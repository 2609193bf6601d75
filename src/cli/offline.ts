/** What the offline commands (policy check, policy lint, roles --config) share: the configuration file, a principal, a cluster. */
import { resolvePrincipal } from '../authz/arn';
import { loadConfigFile } from '../config-file/load';
import type { LoadedConfig } from '../config/validate';
import { configuredClusterArn } from '../identifiers';
import { required, UsageError } from './usage';

/** Shared parseArgs options. */
export const offlineOptions = {
  config: { type: 'string' },
  output: { type: 'string', default: 'table' },
} as const;

/** The caller as an IAM principal ARN (a role, a user, or an assumed-role session). */
export function principalArg(value: string | undefined): string {
  const arn = required(value, '--principal');
  if (!resolvePrincipal(arn)) {
    throw new UsageError(`--principal must be an IAM principal ARN (arn:aws:iam::ACCOUNT:role/NAME, or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION), not "${arn}"`);
  }
  return arn;
}

/** The --config file, loaded and validated (a ConfigError is main's to print). */
export function loadConfigArg(path: string | undefined): LoadedConfig {
  return loadConfigFile(required(path, '--config'));
}

/** The ARN of a cluster of the configuration; a usage error for one it does not list. */
export function clusterResource(loaded: LoadedConfig, clusterId: string): string {
  const { config } = loaded;
  if (!config.clusters.some((c) => c.id === clusterId)) {
    throw new UsageError(`cluster ${clusterId} is not in ${config.file} (clusters: ${config.clusters.map((c) => c.id).join(', ')})`);
  }
  return configuredClusterArn(config, clusterId);
}
