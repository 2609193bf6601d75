/**
 * Loads and validates the configuration file. Every problem is reported with the file, the path inside it
 * (and the line, where the YAML tells it) and what is wrong; all problems at once, not the first one only.
 * Policies are compiled here, once, so a configuration that loads can be evaluated without any parsing.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { resolvePrincipal } from '../authz/arn';
import { PolicyEngine, type PrincipalRule } from '../authz/engine';
import { formatPath, PolicyCompileError, type Path } from '../authz/policy';
import { ConfigError, type ConfigIssue } from '../errors';
import { roleArnProblem } from '../jobs/request';
import { parseSchedule } from '../triggers/schedule-expression';
import { configSchema, type ClusterConfig, type LocalCredential, type RawConfig } from './schema';

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
  local: { credentials: LocalCredential[] };
}

export interface LoadedConfig {
  config: GatewayConfig;
  /** The policy engine, compiled from the configuration's principals and policies. */
  engine: PolicyEngine;
}

const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export function loadConfigFile(path: string): LoadedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file, path: '', message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }], { cause: error });
  }
  return parseConfig(text, file);
}

/** Parses configuration text; `file` names it in errors and anchors relative `file:` policy references. */
export function parseConfig(text: string, file: string): LoadedConfig {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) throw new ConfigError([{ file, path: '', message: `larger than ${MAX_CONFIG_BYTES} bytes` }]);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const at = (path: Path): string => locate(doc, lines, path);
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { file: pos ? `${file}:${pos.line}:${pos.col}` : file, path: '', message: `YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}` };
      }),
    );
  }
  const parsed = configSchema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => zodIssue(issue, file, at)));
  }
  const raw = parsed.data;
  const issues: ConfigIssue[] = [];
  const issue = (path: Path, message: string): void => {
    issues.push({ file: `${file}${at(path)}`, path: formatPath(path), message });
  };

  checkUnique(raw.clusters.map((c) => c.id), (i, v) => issue(['clusters', i, 'id'], `duplicate cluster id ${v}`));
  checkUnique(raw.runtimeRoles, (i, v) => issue(['runtimeRoles', i], `duplicate role ${v}`));
  raw.runtimeRoles.forEach((arn, i) => {
    const problem = roleArnProblem(arn);
    if (problem) issue(['runtimeRoles', i], problem);
  });
  raw.principals.forEach((p, i) =>
    p.policies.forEach((name, j) => {
      if (!(name in raw.policies)) issue(['principals', i, 'policies', j], `no policy named "${name}" (defined: ${Object.keys(raw.policies).join(', ') || 'none'})`);
    }),
  );
  for (const [kind, list] of [['schedules', raw.schedules], ['triggers', raw.triggers]] as const) {
    list.forEach((entry, i) => {
      if (!(entry.template in raw.templates)) issue([kind, i, 'template'], `no template named "${entry.template}"`);
      if (!resolvePrincipal(entry.principal)) issue([kind, i, 'principal'], `"${entry.principal}" is not an IAM principal ARN`);
    });
  }
  raw.schedules.forEach((entry, i) => {
    try {
      parseSchedule(entry.schedule);
    } catch (error) {
      issue(['schedules', i, 'schedule'], (error as Error).message);
    }
  });
  checkUnique(raw.local.credentials.map((c) => c.accessKeyId), (i, v) => issue(['local', 'credentials', i, 'accessKeyId'], `duplicate access key id ${v}`));

  const policies: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(raw.policies)) {
    const ref = 'file' in entry && Object.keys(entry).length === 1 && typeof entry.file === 'string' ? entry.file : undefined;
    if (ref === undefined) {
      policies[name] = entry;
      continue;
    }
    const policyFile = resolve(dirname(file), ref);
    try {
      policies[name] = JSON.parse(readFileSync(policyFile, 'utf8')) as unknown;
    } catch (error) {
      const why = error instanceof SyntaxError ? `not valid JSON: ${error.message}` : `cannot read ${policyFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
      issue(['policies', name, 'file'], why);
    }
  }
  // Compile each policy on its own so that every broken policy is reported, with its own file and path.
  for (const [name, document] of Object.entries(policies)) {
    try {
      new PolicyEngine([], { [name]: document });
    } catch (error) {
      if (!(error instanceof PolicyCompileError)) throw error;
      const entry = raw.policies[name];
      const policyFile = entry && 'file' in entry && typeof entry.file === 'string' ? resolve(dirname(file), entry.file) : undefined;
      for (const e of error.issues) {
        if (policyFile) issues.push({ file: policyFile, path: formatPath(e.path), message: e.message });
        else issue(['policies', name, ...e.path], e.message);
      }
    }
  }
  if (issues.length) throw new ConfigError(issues);

  const config: GatewayConfig = {
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
    local: raw.local,
  };
  return { config, engine: new PolicyEngine(config.principals, config.policies) };
}

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

function checkUnique(values: readonly string[], report: (index: number, value: string) => void): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) report(i, v);
    seen.add(v);
  });
}

function zodIssue(issue: z.core.$ZodIssue, file: string, at: (path: Path) => string): ConfigIssue {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
  else if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
  const target = issue.code === 'unrecognized_keys' && issue.keys[0] ? [...path, issue.keys[0]] : path;
  return { file: `${file}${at(target)}`, path: formatPath(target), message };
}

/** `:LINE:COL` of the key at path (or of its nearest existing parent), or '' if unknown. */
function locate(doc: Document, lines: LineCounter, path: Path): string {
  for (let n = path.length; n > 0; n--) {
    const parent = doc.getIn(path.slice(0, n - 1), true);
    const last = path[n - 1];
    // Point at the key of a mapping entry (where an editor should go), or at a sequence item.
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === last) : undefined;
    const node = (pair?.key ?? doc.getIn(path.slice(0, n), true)) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      const pos = lines.linePos(node.range[0]);
      return `:${pos.line}:${pos.col}`;
    }
  }
  return '';
}
