/** `policy check` and `policy lint`: answers from a configuration file, no AWS call. */
import { dirname, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { GATEWAY_ACTIONS, GATEWAY_CONTEXT_KEYS } from '../../authz/actions';
import type { ContextValue } from '../../authz/context';
import { describeStatement, isDerivedKey, type Decision } from '../../authz/engine';
import { loadConfigFile } from '../../config-file/load';
import type { ConfigFinding } from '../../config/validate';
import { clusterResource, loadConfigArg, offlineOptions, principalArg } from '../offline';
import { fields, json, outputFormat, table, type Io } from '../output';
import { EXIT, required, UsageError } from '../usage';

/** `elasticmapreduce:AddJobFlowSteps`, or the bare EMR action name. */
function qualifyAction(action: string): string {
  return action.includes(':') ? action : `elasticmapreduce:${action}`;
}

/** `--context KEY=VALUE`, repeated; a key given twice becomes multi-valued (for ForAnyValue/ForAllValues). */
function parseContext(pairs: readonly string[]): Record<string, ContextValue> {
  const context: Record<string, string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--context takes KEY=VALUE, not "${pair}"`);
    const key = pair.slice(0, eq);
    if (!/^[A-Za-z0-9-]+:\S+$/.test(key)) throw new UsageError(`--context key "${key}" is not a condition key (service:Key)`);
    if (isDerivedKey(key)) throw new UsageError(`--context cannot set ${key}: the gateway derives it from --principal and the principals rule`);
    (context[key] ??= []).push(pair.slice(eq + 1));
  }
  return Object.fromEntries(Object.entries(context).map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
}

export function policyCheck(args: string[], io: Io): number {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      ...offlineOptions,
      principal: { type: 'string' },
      action: { type: 'string', default: GATEWAY_ACTIONS.submit },
      resource: { type: 'string' },
      cluster: { type: 'string' },
      role: { type: 'string' },
      context: { type: 'string', multiple: true, default: [] },
      at: { type: 'string' },
    },
  });
  const output = outputFormat(values.output);
  const principal = principalArg(values.principal);
  if (values.resource && values.cluster) throw new UsageError('give --resource or --cluster, not both');
  const loaded = loadConfigArg(values.config);
  const resource = values.cluster ? clusterResource(loaded, values.cluster) : required(values.resource, '--resource (or --cluster)');
  const context = parseContext(values.context);
  if (values.role) context[GATEWAY_CONTEXT_KEYS.executionRoleArn] = values.role;
  const action = qualifyAction(values.action);
  const now = values.at === undefined ? undefined : new Date(values.at);
  if (now && Number.isNaN(now.getTime())) throw new UsageError(`--at must be an ISO 8601 time, not "${values.at}"`);
  const decision = loaded.engine.evaluate({ callerArn: principal, action, resource, context, ...(now ? { now } : {}) });
  io.out(output === 'json' ? json({ action, resource, context, ...decision }) : renderDecision(decision, action, resource));
  return decision.allowed ? EXIT.ok : EXIT.denied;
}

function renderDecision(d: Decision, action: string, resource: string): string {
  const principal = d.principal
    ? `${d.principal.principalArn}${d.principal.sessionName ? ` (session ${d.principal.sessionName})` : ''}`
    : '(not an IAM principal)';
  const pairs: [string, string][] = [
    ['Decision', d.result],
    ['Principal', principal],
    ['Matched by', d.rule ? `principals[${d.rule.index}] ${d.rule.match}` : '(no principals rule)'],
    ['Action', action],
    ['Resource', resource],
    ['Reason', d.reason],
  ];
  for (const s of d.deniedBy) pairs.push(['Denied by', describeStatement(s)]);
  for (const s of d.allowedBy) pairs.push([d.deniedBy.length ? 'Would allow' : 'Allowed by', describeStatement(s)]);
  for (const m of d.nearMisses) pairs.push(['Near miss', `${describeStatement(m.statement)}: ${m.failedConditions.join(', ') || 'action matched'}`]);
  return fields(pairs);
}

/**
 * `policy lint`: every finding of the configuration (the loader's lint, in report mode, so errors are listed
 * with the warnings instead of failing the load), exit 1 if any is an error. Other configuration errors
 * fail as in every command.
 */
export function policyLint(args: string[], io: Io): number {
  const { values } = parseArgs({ args, strict: true, options: offlineOptions });
  const output = outputFormat(values.output);
  const { config, findings } = loadConfigFile(required(values.config, '--config'), { lint: 'report' });
  const errors = findings.filter((f) => f.severity === 'error').length;
  // A finding in a `file:` policy is named by that file (relative to the configuration) and its path inside it.
  const where = (f: ConfigFinding): string => (f.file.replace(/:\d+:\d+$/, '') === config.file ? f.path : `${relative(dirname(config.file), f.file)}: ${f.path}`);
  if (output === 'json') io.out(json({ file: config.file, errors, warnings: findings.length - errors, findings }));
  else if (!findings.length) io.out(`${config.file}: no findings`);
  else {
    io.out(
      table(
        ['SEVERITY', 'WHERE', 'FINDING'],
        findings.map((f) => [f.severity, where(f), f.suggestion ? `${f.message} (${f.suggestion})` : f.message]),
      ),
    );
    io.out(`${errors} error(s), ${findings.length - errors} warning(s)`);
  }
  return errors ? EXIT.failed : EXIT.ok;
}
