/**
 * The configuration as a deployed function loads it: the JSON that packaging wrote (deployableConfig) after the whole
 * validation of validate.ts, made with this same code. Its schema is checked again here (its types, its defaults, no
 * unknown key); what needs more than the schema is not redone in every function, each of which would carry it in its
 * bundle: the functions that decide compile the policy engine (composition/service.ts), the trigger functions check
 * the templates' event values again (composition/triggers.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from '../util/zod';
import { ConfigError, type ConfigIssue } from '../errors';
import { formatPath, type Path } from '../util/format';
import type { PrincipalRule } from '../authz/engine';
import { configSchema, type ClusterConfig, type LocalCredential, type NotificationConfig, type QuotaConfig, type RawConfig } from './schema';

export interface GatewayConfig {
  /** The file it was loaded from (absolute). */
  file: string;
  account: string;
  region: string;
  partition: string;
  clusters: ClusterConfig[];
  runtimeRoles: string[];
  principals: PrincipalRule[];
  /** Policy documents by name, `file:` references already read. */
  policies: Record<string, unknown>;
  templates: RawConfig['templates'];
  schedules: RawConfig['schedules'];
  triggers: RawConfig['triggers'];
  notifications: NotificationConfig[];
  /** Principal groups and their limits on each cluster (jobs/queue.ts). */
  quotas: QuotaConfig[];
  /** `secrets`: the webhooks' secrets on the local stack, by the ARN or parameter name they have in AWS (never packaged). */
  local: { credentials: LocalCredential[]; secrets: Record<string, string> };
}

/** The data, parsed by the schema; a ConfigError naming each problem's path (`at` locates it in the source). */
export function parseConfigSchema(data: unknown, file: string, at: (path: Path) => string = () => ''): RawConfig {
  const parsed = z.safeParse(configSchema, data);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => zodIssue(issue, file, at)));
  return parsed.data;
}

/** The configuration, from its parsed form and its policies (`file:` references read). */
export function gatewayConfig(raw: RawConfig, file: string, policies: Record<string, unknown>): GatewayConfig {
  return {
    file,
    account: raw.account,
    region: raw.region,
    partition: raw.partition ?? partitionOf(raw.region),
    clusters: raw.clusters,
    runtimeRoles: raw.runtimeRoles,
    principals: raw.principals,
    policies,
    templates: raw.templates,
    schedules: raw.schedules,
    triggers: raw.triggers,
    notifications: raw.notifications,
    quotas: raw.quotas,
    local: raw.local,
  };
}

/** Loads the JSON configuration written at packaging time (see deployableConfig): its policies are inline. */
export function loadPackagedConfig(path: string): GatewayConfig {
  const file = resolve(path);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([{ file, path: '', message: `cannot read it as JSON: ${(error as Error).message}` }], { cause: error });
  }
  const raw = parseConfigSchema(data, file);
  const referenced = Object.entries(raw.policies).filter(([, entry]) => 'file' in entry && Object.keys(entry).length === 1).map(([name]) => name);
  if (referenced.length) {
    throw new ConfigError(referenced.map((name) => ({ file, path: formatPath(['policies', name, 'file']), message: 'a packaged configuration has its policies inline (package it with npm run package)' })));
  }
  return gatewayConfig(raw, file, raw.policies);
}

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

function zodIssue(issue: z.core.$ZodIssue, file: string, at: (path: Path) => string): ConfigIssue {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
  else if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
  const target = issue.code === 'unrecognized_keys' && issue.keys[0] ? [...path, issue.keys[0]] : path;
  return { file: `${file}${at(target)}`, path: formatPath(target), message };
}
