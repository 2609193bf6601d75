/**
 * `doctor`: the runtime-role prerequisites of each configured cluster, checked through the real APIs (EMR
 * DescribeCluster, ListInstanceGroups/ListInstanceFleets, DescribeSecurityConfiguration; IAM GetInstanceProfile,
 * GetRole and the role's policies; STS GetCallerIdentity) with the standard credential chain, in AWS or, with
 * --aws-endpoint / AWS_ENDPOINT_URL, on the local stack. The checks are src/doctor/checks.ts.
 */
import { parseArgs } from 'node:util';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { doctorClients } from '../../adapters/clients';
import { SdkClusterReader } from '../../adapters/emr/cluster-reader';
import { reachAccount } from '../../adapters/iam/account-access';
import { SdkIamReader } from '../../adapters/iam/role-reader';
import type { CliEnvironment } from '../../config/env';
import { CHECKS, runChecks, summarize, type Finding } from '../../doctor/checks';
import { describeFailure } from '../../doctor/facts';
import { gatherFacts } from '../../doctor/gather';
import { LOCAL_GATEWAY_ROLE, LOCAL_SUBMITTER_ROLE } from '../../local/iam-seed';
import { LOOPBACK_NAMES } from '../../local/listen';
import { loadConfigArg } from '../offline';
import { json, outputFormat, table, type Io } from '../output';
import { DEFAULT_DOCTOR_STAGE, EXIT, UsageError } from '../usage';

const STAGE = /^[a-z][a-z0-9-]{0,19}$/;

/** The JSON output's shape version: a change that is not an addition raises it. */
export const DOCTOR_OUTPUT_VERSION = 1;

/**
 * The submitter role checked by default. serverless.yml names it `emr-step-gateway-STAGE-REGION-submitter` (the
 * stack output SubmitterRoleArn is that role), so no CloudFormation read is needed to find it; the local stack
 * seeds `emr-gateway-submitter`.
 */
export function defaultSubmitterRole(endpoint: string | undefined, stage: string, region: string): string {
  return endpoint && isLoopback(endpoint) ? LOCAL_SUBMITTER_ROLE : `emr-step-gateway-${stage}-${region}-submitter`;
}

/**
 * The roles an access role must trust: on the local stack, its functions' role; in AWS the deployed functions' roles
 * have generated names, so none unless --gateway-role names them (the trust is then checked by AssumeRole only).
 */
function defaultGatewayRoles(endpoint: string | undefined, config: { partition: string; account: string }): string[] {
  return endpoint && isLoopback(endpoint) ? [`arn:${config.partition}:iam::${config.account}:role/${LOCAL_GATEWAY_ROLE}`] : [];
}

function isLoopback(endpoint: string): boolean {
  try {
    return LOOPBACK_NAMES.includes(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

function endpointArg(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--aws-endpoint (or AWS_ENDPOINT_URL) must be a URL such as http://127.0.0.1:4566, not "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--aws-endpoint must be an http(s) URL, not "${value}"`);
  return value.replace(/\/$/, '');
}

export async function doctor(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      config: { type: 'string' },
      cluster: { type: 'string' },
      output: { type: 'string', default: 'table' },
      'aws-endpoint': { type: 'string' },
      'submitter-role': { type: 'string', multiple: true },
      stage: { type: 'string', default: DEFAULT_DOCTOR_STAGE },
      profile: { type: 'string' },
      'gateway-role': { type: 'string', multiple: true },
      'account-profile': { type: 'string', multiple: true },
    },
  });
  const output = outputFormat(values.output);
  if (!STAGE.test(values.stage)) throw new UsageError(`--stage must be 1-20 lower-case letters, digits or '-', starting with a letter, not "${values.stage}"`);
  const endpoint = endpointArg(values['aws-endpoint'] ?? env.awsEndpointUrl);
  const { config } = loadConfigArg(values.config);
  if (values.cluster !== undefined && !config.clusters.some((c) => c.id === values.cluster)) {
    throw new UsageError(`cluster ${values.cluster} is not in ${config.file} (clusters: ${config.clusters.map((c) => c.id).join(', ')})`);
  }
  const clusterIds = values.cluster !== undefined ? [values.cluster] : config.clusters.map((c) => c.id);
  const submitterRoles = values['submitter-role']?.length ? values['submitter-role'] : [defaultSubmitterRole(endpoint, values.stage, config.region)];
  if (submitterRoles.some((r) => !r)) throw new UsageError('--submitter-role needs a role ARN or name');

  // Clusters of other accounts: the gateway's roles their access roles must trust, and the credentials for each account.
  const gatewayRoles = values['gateway-role']?.length ? values['gateway-role'] : defaultGatewayRoles(endpoint, config);
  const accountProfiles = new Map<string, string>();
  for (const entry of values['account-profile'] ?? []) {
    const m = /^(\d{12})=(.+)$/.exec(entry);
    if (!m) throw new UsageError(`--account-profile takes ACCOUNT=PROFILE (a 12-digit account id), not "${entry}"`);
    accountProfiles.set(m[1]!, m[2]!);
  }
  const profile = values.profile ?? env.profile;
  const clients = doctorClients({ region: config.region, ...(endpoint ? { endpoint } : {}), ...(profile ? { credentials: fromNodeProviderChain({ profile }) } : {}) });
  const readers = { emr: new SdkClusterReader(clients.emr), iam: new SdkIamReader(clients.iam, clients.sts) };
  const account = await readers.iam.callerAccount();
  if (!account.ok) {
    io.err(
      `emr-gateway doctor: ${describeFailure(account.failure)}\n  doctor reads EMR and IAM with the standard AWS credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile or AWS_PROFILE, SSO, instance roles)${endpoint ? ` at ${endpoint}` : ''}.`,
    );
    return EXIT.failed;
  }
  if (account.value !== config.account) io.err(`emr-gateway doctor: warning: these credentials are of account ${account.value}, the configuration's is ${config.account}: IAM reads only the credentials' own account`);

  const target = { region: config.region, ...(endpoint ? { endpoint } : {}) };
  const accountReaders = (cluster: (typeof config.clusters)[number]) => {
    const named = cluster.account ? accountProfiles.get(cluster.account) : undefined;
    return reachAccount(clients.sts, target, cluster, named ? fromNodeProviderChain({ profile: named }) : undefined);
  };
  const facts = await gatherFacts(readers, { config, clusterIds, submitterRoles, gatewayRoles, accountReaders, onProgress: (message) => io.err(`doctor: ${message}`) });
  const findings = runChecks({ config, facts });
  const summary = summarize(findings);
  if (output === 'json') {
    io.out(json({ version: DOCTOR_OUTPUT_VERSION, config: config.file, account: account.value, region: config.region, ...(endpoint ? { endpoint } : {}), clusters: clusterIds, submitterRoles, summary, findings }));
  } else {
    io.out(renderTable(findings));
    io.out(`${summary.pass} passed, ${summary.fail} failed, ${summary.warn} warning${summary.warn === 1 ? '' : 's'}`);
  }
  return summary.fail ? EXIT.failed : EXIT.ok;
}

const shortRole = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

function resourceCell(f: Finding): string {
  return f.runtimeRole && f.runtimeRole !== f.resource ? `${f.resource} (for ${shortRole(f.runtimeRole)})` : f.resource;
}

/** One row per check (a failing or warning one numbered), then each numbered one's evaluation and fixes, each fix's JSON below it. */
export function renderTable(findings: readonly Finding[]): string {
  const numbered = new Map(findings.filter((f) => f.problem).map((f, i) => [f, i + 1]));
  const rows = findings.map((f) => [f.cluster, f.check, f.status.toUpperCase(), resourceCell(f), numbered.has(f) ? `[${numbered.get(f)}] ${f.problem}` : '']);
  const parts = [table(['CLUSTER', 'CHECK', 'STATUS', 'RESOURCE', 'PROBLEM'], rows)];
  // A fix several findings share (one policy for every catalogue role) is written out once.
  const shown = new Map<string, string>();
  for (const [f, num] of numbered) {
    const lines = [`[${num}] ${f.status.toUpperCase()} ${f.cluster} ${f.check}: ${CHECKS[f.check]}`, `    resource: ${resourceCell(f)}`];
    if (f.detail !== 'not checked') lines.push(`    checked:  ${f.detail}`);
    if (!f.fixes.length && f.status === 'fail') lines.push('    fix:      (none doctor can write: see the problem)');
    f.fixes.forEach((fix, n) => {
      const key = `${fix.operation} ${JSON.stringify(fix.parameters)} ${JSON.stringify(fix.document)}`;
      const before = shown.get(key);
      if (before) {
        lines.push(`    fix ${n + 1}:    the same as ${before}`);
        return;
      }
      shown.set(key, `[${num}] fix ${n + 1}`);
      lines.push(`    fix ${n + 1}:    ${fix.summary}${f.fixVerified === true ? ' (evaluated again with it: passes)' : f.fixVerified === false ? ' (evaluated again with it: does NOT pass yet)' : ''}`);
      lines.push(`              ${fix.command ?? `${fix.operation}${Object.keys(fix.parameters).length ? ` ${JSON.stringify(fix.parameters)}` : ''}`}`);
      if (fix.document !== null && fix.document !== undefined) lines.push(...json(fix.document).split('\n').map((l) => `              ${l}`));
    });
    parts.push(lines.join('\n'));
  }
  return parts.join('\n\n');
}
