/**
 * The whole validation of the gateway's configuration data, wherever it is read from YAML (config-file/load.ts:
 * packaging, check-config, the local stack; the YAML file is validated and turned into JSON at packaging time, and
 * the deployed functions load that JSON through packaged.ts). Every problem is reported with the file, the path
 * inside it and what is wrong.
 */
import { DEFAULT_GROUP } from '../jobs/queue';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { resolvePrincipal } from '../authz/arn';
import { PolicyEngine, principalRuleProblem } from '../authz/engine';
import { ConfigError, formatConfigIssue, PolicyCompileError, type ConfigIssue } from '../errors';
import { formatPath, type Path } from '../util/format';
import { caseOnlyDuplicateMessage, caseOnlyDuplicates } from '../util/validation';
import { roleArnProblem } from '../identifiers';
import { actionOnFailureProblem, DEFAULT_ACTION_ON_FAILURE } from '../jobs/step-rules';
import { eventPatternProblem } from '../triggers/event-pattern';
import { lintTemplates } from '../triggers/lint';
import { parseSchedule } from '../triggers/schedule-expression';
import { gatewayConfig, parseConfigSchema, type GatewayConfig } from './packaged';
import type { RawConfig } from './schema';
export type { GatewayConfig };

export interface LoadedConfig {
  config: GatewayConfig;
  /** The policy engine, compiled from the configuration's principals and policies. */
  engine: PolicyEngine;
}

/** A lint finding located like a configuration error; loading fails on the errors (see LintMode). */
export interface ConfigFinding extends ConfigIssue {
  severity: 'error' | 'warning';
  suggestion?: string;
}

/** `enforce`: lint errors fail the load, as any configuration error; `report`: they are returned (policy lint). */
export type LintMode = 'enforce' | 'report';

export interface ValidatedConfig extends LoadedConfig {
  /** Under `enforce`, the warnings; under `report`, every finding. */
  findings: ConfigFinding[];
}

/** One line per finding, as the tools print warnings: `warning: FILE:LINE:COL: PATH: MESSAGE (SUGGESTION)`. */
export function formatConfigFinding(finding: ConfigFinding): string {
  return `${finding.severity}: ${formatConfigIssue(asIssue(finding))}`;
}

/** The finding as a configuration error, its suggestion kept in the message. */
export function asIssue(finding: ConfigFinding): ConfigIssue {
  return { file: finding.file, path: finding.path, message: finding.suggestion ? `${finding.message} (${finding.suggestion})` : finding.message };
}

/** Splits findings by LintMode: the errors to throw (none under `report`) and the findings to return. */
export function applyLintMode(findings: readonly ConfigFinding[], mode: LintMode): { errors: ConfigIssue[]; kept: ConfigFinding[] } {
  if (mode === 'report') return { errors: [], kept: [...findings] };
  return { errors: findings.filter((f) => f.severity === 'error').map(asIssue), kept: findings.filter((f) => f.severity !== 'error') };
}

/**
 * Validates configuration data (parsed from YAML, or the JSON that packaging writes for the Lambda functions):
 * the schema, the cross-references, the schedules, and every policy compiled. `at` locates a path in the
 * source file (`:line:col`), where the source keeps positions.
 */
export function validateConfig(data: unknown, file: string, at: (path: Path) => string = () => '', lint: LintMode = 'enforce'): ValidatedConfig {
  const raw = parseConfigSchema(data, file, at);
  const issues: ConfigIssue[] = [];
  const issue = (path: Path, message: string): void => {
    issues.push({ file: `${file}${at(path)}`, path: formatPath(path), message });
  };

  checkUnique(raw.clusters.map((c) => c.id), (i, v) => issue(['clusters', i, 'id'], `duplicate cluster id ${v}`));
  raw.clusters.forEach((c, i) => {
    const path = ['clusters', i, 'allowedActionsOnFailure'];
    checkUnique(c.allowedActionsOnFailure, (j, v) => issue([...path, j], `duplicate value ${v}`));
    if (!c.allowedActionsOnFailure.includes(DEFAULT_ACTION_ON_FAILURE)) issue(path, `must include ${DEFAULT_ACTION_ON_FAILURE}: it is what a request without actionOnFailure asks for`);
  });
  const externalIds = new Map<string, string | undefined>();
  raw.clusters.forEach((c, i) => {
    for (const problem of accessRoleProblems(c, raw.account)) issue(['clusters', i, ...problem.path], problem.message);
    // One role, one trust: its ExternalId cannot differ from cluster to cluster.
    if (!c.accessRole) return;
    if (externalIds.has(c.accessRole.arn) && externalIds.get(c.accessRole.arn) !== c.accessRole.externalId) {
      issue(['clusters', i, 'accessRole', 'externalId'], `differs from the externalId another cluster gives the same role ${c.accessRole.arn}`);
    }
    externalIds.set(c.accessRole.arn, c.accessRole.externalId);
  });
  // A template that names its cluster and action would be refused at every run: say so at load instead.
  for (const [name, template] of Object.entries(raw.templates)) {
    const cluster = raw.clusters.find((c) => c.id === template.clusterId);
    const action = template.actionOnFailure;
    const problem = cluster && typeof action === 'string' && !action.includes('${') ? actionOnFailureProblem(cluster, action) : undefined;
    if (problem) issue(['templates', name, 'actionOnFailure'], problem);
  }
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
  raw.principals.forEach((p, i) => {
    const problem = principalRuleProblem(p);
    if (problem) issue(['principals', i, 'match'], problem);
    for (const duplicate of caseOnlyDuplicates(Object.keys(p.tags))) issue(['principals', i, 'tags', duplicate.key], caseOnlyDuplicateMessage(duplicate));
  });
  for (const [kind, list] of [['schedules', raw.schedules], ['triggers', raw.triggers]] as const) {
    // A name is the run's namespace and its audit chain: a second entry of one name would never run.
    checkUnique(list.map((entry) => entry.name), (i, v) => issue([kind, i, 'name'], `duplicate name ${v}`));
    list.forEach((entry, i) => {
      if (!(entry.template in raw.templates)) issue([kind, i, 'template'], `no template named "${entry.template}"`);
      if (!resolvePrincipal(entry.principal)) issue([kind, i, 'principal'], `"${entry.principal}" is not an IAM principal ARN`);
    });
  }
  raw.triggers.forEach((entry, i) => {
    const problem = eventPatternProblem(entry.eventPattern);
    if (problem) issue(['triggers', i, 'eventPattern', ...problem.path], problem.message);
  });
  raw.schedules.forEach((entry, i) => {
    try {
      parseSchedule(entry.schedule).next(new Date()); // it must fire again

    } catch (error) {
      issue(['schedules', i, 'schedule'], (error as Error).message);
    }
  });
  checkUnique(raw.notifications.map((n) => n.name), (i, v) => issue(['notifications', i, 'name'], `duplicate name ${v}`));
  raw.notifications.forEach((n, i) => {
    const targets = [n.webhook, n.sns].filter(Boolean).length;
    if (targets !== 1) issue(['notifications', i], `needs exactly one target, webhook or sns (got ${targets})`);
    checkUnique(n.states, (j, v) => issue(['notifications', i, 'states', j], `duplicate state ${v}`));
    n.jobs?.clusters?.forEach((id, j) => {
      if (!raw.clusters.some((c) => c.id === id)) issue(['notifications', i, 'jobs', 'clusters', j], `${id} is not a configured cluster`);
    });
    n.jobs?.principals?.forEach((p, j) => {
      if (!resolvePrincipal(p.replace(/[*?]/g, 'x'))) issue(['notifications', i, 'jobs', 'principals', j], `"${p}" is not an IAM principal ARN pattern`);
    });
  });
  checkUnique(raw.quotas.map((q) => q.name), (i, v) => issue(['quotas', i, 'name'], `duplicate name ${v}`));
  raw.quotas.forEach((q, i) => {
    if (q.name === DEFAULT_GROUP) issue(['quotas', i, 'name'], `${DEFAULT_GROUP} is the group of the callers no quota matches: name this quota otherwise`);
    (Array.isArray(q.match) ? q.match : [q.match]).forEach((p, j) => {
      if (!resolvePrincipal(p.replace(/[*?]/g, 'x'))) issue(['quotas', i, 'match', ...(Array.isArray(q.match) ? [j] : [])], `"${p}" is not an IAM principal ARN pattern`);
    });
  });
  checkUnique(raw.local.credentials.map((c) => c.accessKeyId), (i, v) => issue(['local', 'credentials', i, 'accessKeyId'], `duplicate access key id ${v}`));
  // Event values reaching scripts: checked here, not only by the tools, so a Lambda refuses such a config too.
  const templateLint = lintTemplates(raw);
  for (const i of templateLint.issues) issue(i.path, i.message);
  const templateFindings = applyLintMode(
    templateLint.findings.map((f) => ({ severity: f.severity, file: `${file}${at(f.path)}`, path: formatPath(f.path), message: f.message, ...(f.suggestion === undefined ? {} : { suggestion: f.suggestion }) })),
    lint,
  );
  issues.push(...templateFindings.errors);

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

  const config = gatewayConfig(raw, file, policies);
  return { config, engine: new PolicyEngine(config.principals, config.policies), findings: templateFindings.kept };
}

/** A cluster of another account needs a role there to assume (of that account); one of the gateway's account needs none. */
function accessRoleProblems(cluster: RawConfig['clusters'][number], gatewayAccount: string): { path: Path; message: string }[] {
  const account = cluster.account ?? gatewayAccount;
  if (account === gatewayAccount) {
    return cluster.accessRole ? [{ path: ['accessRole'], message: `is only for a cluster in another account: this one is in the gateway's (${gatewayAccount})` }] : [];
  }
  if (!cluster.accessRole) return [{ path: ['accessRole'], message: `is required: the cluster is in account ${account}, not the gateway's (${gatewayAccount}); name the IAM role the gateway assumes there` }];
  const roleAccount = cluster.accessRole.arn.split(':')[4];
  return roleAccount === account ? [] : [{ path: ['accessRole', 'arn'], message: `must be a role in the cluster's account ${account}, got one of ${roleAccount}` }];
}

function checkUnique(values: readonly string[], report: (index: number, value: string) => void): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) report(i, v);
    seen.add(v);
  });
}

/**
 * The configuration as the deployed functions get it: the same schema, with `file:` policies inlined, and
 * without `local` (the local stack's demo keys have no business in AWS).
 */
export function deployableConfig(config: GatewayConfig): Omit<GatewayConfig, 'file' | 'local'> & { local: { credentials: []; secrets: Record<string, never> } } {
  const { file: _file, local: _local, ...rest } = config;
  return { ...rest, local: { credentials: [], secrets: {} } };
}
