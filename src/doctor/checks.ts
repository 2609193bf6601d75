/**
 * The runtime-role prerequisites of each configured cluster ("Runtime roles for Amazon EMR steps"), checked on
 * the facts doctor read (gather.ts), pure. Policies are evaluated with the project's engine, as STS and IAM decide:
 *  - the cluster: readable, release emr-6.7.0 or later, Spark or Hive, one primary node (no HA);
 *  - its security configuration: runtime roles as the gateway's configuration says, PropagateSourceIdentity too;
 *  - its instance profile: it holds a role, and that role's identity policies allow sts:AssumeRole and
 *    sts:TagSession (and sts:SetSourceIdentity where the source identity is propagated) on every catalogue role;
 *  - every catalogue role's trust policy: STS lets the instance profile role's session assume it with the
 *    security configuration's ExternalId (setting the source identity where propagated), and not without it;
 *  - the gateway's submitter role: IAM lets it add steps with every catalogue role, and with no other.
 * Each finding names its resource, what is wrong, and the fixes: the documentation's statements merged into what
 * is there. An IAM fix is applied to the facts and the check evaluated again before it is proposed (fixVerified).
 */
import { resolvePrincipal, splitArn } from '../authz/arn';
import { GATEWAY_ACTIONS, GATEWAY_CONTEXT_KEYS } from '../authz/actions';
import { describeStatement, describeNearMisses, nearMisses, PolicyEngine, type Decision } from '../authz/engine';
import { compilePolicy, evaluateStatements, requestedResource, type CompiledPolicy, type StatementRef } from '../authz/policy';
import {
  ACCESS_ROLE_POLICY,
  ACCESS_ROLE_APP_UI_LINK_ACTIONS,
  ACCESS_ROLE_READ_ACTIONS,
  stepLogPlaces,
  accessRolePolicy,
  accessRoleTrustPolicy,
  RUNTIME_ROLE_USAGE_POLICY,
  runtimeRoleSecurityConfiguration,
  runtimeRoleTrustPolicy,
  runtimeRoleUsagePolicy,
  SUBMITTER_POLICY,
  submitterAddStepsStatement,
  type RuntimeRoleGrant,
} from '../authz/runtime-role-setup';
import { actionsNeeded, assumeRoleContext, decideAssumeRole, type AssumeRoleAsk, type AssumeRoleDecision, type TrustCaller } from '../authz/trust';
import type { ClusterConfig } from '../config/schema';
import { PolicyCompileError } from '../errors';
import { clusterArn, configuredClusterArn, parseLogUri } from '../identifiers';
import { describeFailure, runtimeRoleSettings, type PolicyFacts, type Read, type ReadFailure, type RoleFacts, type RuntimeRoleSettings } from './facts';
import {
  applyFixToRole,
  createPolicyVersionFix,
  mergeStatements,
  putRolePolicyFix,
  removePolicyFix,
  statementsOf,
  updateTrustPolicyFix,
  type Fix,
} from './fixes';
import type { ClusterEvidence, DoctorConfig, DoctorFacts } from './gather';
import { uniqueBy } from '../util/collections';

export const CHECKS = {
  cluster: 'DescribeCluster answers for the cluster, and it is not terminated',
  release: 'the release is emr-6.7.0 or later',
  applications: 'Spark or Hive is installed',
  'single-primary': 'one primary node: EMR does not support runtime roles on multi-primary (HA) clusters',
  'security-configuration': "the security configuration enables runtime roles as the gateway's configuration says (EnableApplicationScopedIAMRole)",
  'source-identity': "the security configuration's PropagateSourceIdentity is the gateway configuration's propagateSourceIdentity",
  'instance-profile': "the cluster's instance profile holds a role (EC2 gives the nodes its credentials)",
  'instance-profile-permissions': 'the instance profile role may sts:AssumeRole and sts:TagSession (and sts:SetSourceIdentity) on the catalogue role',
  'trust-policy': "the catalogue role's trust policy lets the instance profile role assume it with the ExternalId (and set the source identity)",
  'trust-external-id': "the catalogue role's trust policy lets the instance profile role assume it only with the ExternalId",
  'submitter-catalogue': "the gateway's submitter role may add steps (AddJobFlowSteps) with every catalogue role",
  'submitter-exactly': "the gateway's submitter role may add steps with no role outside the catalogue",
  'log-uri': "clusters[].logUri is the cluster's LogUri (where GET /jobs/{id}/logs reads its steps' logs)",
  'access-role-trust': "a cluster of another account: its access role lets the gateway's role assume it with the ExternalId (and set the source identity)",
  'access-role-external-id': "a cluster of another account: its access role's trust policy lets the gateway's role in only with the ExternalId",
  'access-role-permissions': "a cluster of another account: its access role may add steps, get session credentials and Spark UI links with the catalogue's roles only (the ExecutionRoleArn condition), read and cancel steps, and read the cluster's step logs in its bucket",
} as const;

export type CheckId = keyof typeof CHECKS;
export const CHECK_IDS = Object.keys(CHECKS) as CheckId[];
export type Status = 'pass' | 'fail' | 'warn';

export interface Finding {
  check: CheckId;
  /** The cluster id. */
  cluster: string;
  /** What the finding is about and where its fixes go: an ARN, or a security configuration's or instance profile's name. */
  resource: string;
  /** The catalogue role a per-role check is about. */
  runtimeRole?: string;
  status: Status;
  /** What is wrong (fail), or what could not be checked (warn). */
  problem?: string;
  /** What was checked and found: the decisions' reasons. */
  detail: string;
  fixes: Fix[];
  /** For IAM policy fixes: doctor applied them to what it read and evaluated the check again; true if it then passes. */
  fixVerified?: boolean;
}

export interface DoctorInput {
  config: DoctorConfig & { file?: string };
  facts: DoctorFacts;
  /** aws:CurrentTime of the evaluations. */
  now?: Date;
}

/** The minimum release of runtime roles for EMR steps. */
export const MIN_RELEASE = 'emr-6.7.0';
/** What doctor puts in the requests it evaluates where EMR puts values of its own. */
export const PROBE = {
  /** The instance profile role's session (EC2 names it by the instance). */
  instanceId: 'i-0emrgatewaydoctor',
  sessionName: 'emr-gateway-doctor',
  sourceIdentity: 'emr-gateway-doctor',
  tags: { 'emr-gateway-doctor': 'probe' } as Readonly<Record<string, string>>,
  wrongExternalId: 'EMR-GATEWAY-DOCTOR-NOT-THE-EXTERNAL-ID',
  /** A role no catalogue holds. */
  outsideRole: 'emr-gateway-doctor-not-in-the-catalogue',
  /** An account no configuration names. */
  otherAccount: '000000000000',
} as const;

const TRUST_LABEL = 'trust policy';

/** Every finding, in order: per cluster, the cluster's checks, then per catalogue role, then the submitter's. */
export function runChecks(input: DoctorInput): Finding[] {
  const findings = evaluate(input);
  return findings.map((finding) => (finding.status === 'fail' && finding.fixes.some(isVerifiable) ? { ...finding, fixVerified: verify(input, finding) } : finding));
}

/** Counts by status, and the exit code: 1 if anything failed (warnings do not fail). */
export function summarize(findings: readonly Finding[]): { pass: number; fail: number; warn: number } {
  return {
    pass: findings.filter((f) => f.status === 'pass').length,
    fail: findings.filter((f) => f.status === 'fail').length,
    warn: findings.filter((f) => f.status === 'warn').length,
  };
}

const isVerifiable = (fix: Fix): boolean => ['iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:CreatePolicyVersion', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy'].includes(fix.operation);

/** The facts with `fixes` applied to every role they change. */
export function applyFixes(facts: DoctorFacts, fixes: readonly Fix[]): DoctorFacts {
  const patch = (read: Read<RoleFacts>): Read<RoleFacts> => {
    if (!read.ok) return read;
    let role = read.value;
    for (const fix of fixes) role = applyFixToRole(role, fix) ?? role;
    return role === read.value ? read : { ok: true, value: role };
  };
  return {
    ...facts,
    clusters: facts.clusters.map((c) => (c.instanceProfileRole ? { ...c, instanceProfileRole: patch(c.instanceProfileRole) } : c)),
    catalogue: new Map([...facts.catalogue].map(([arn, read]) => [arn, patch(read)])),
    submitters: facts.submitters.map((s) => ({ ...s, role: patch(s.role) })),
  };
}

function verify(input: DoctorInput, finding: Finding): boolean {
  const again = evaluate({ ...input, facts: applyFixes(input.facts, finding.fixes) });
  const same = again.find((f) => f.check === finding.check && f.cluster === finding.cluster && f.resource === finding.resource && f.runtimeRole === finding.runtimeRole);
  return same?.status === 'pass';
}

// ---- evaluation -------------------------------------------------------------------------------------------

interface Context {
  config: DoctorInput['config'];
  facts: DoctorFacts;
  now: Date;
  /** Who may assume the catalogue roles, from every checked cluster whose facts tell it: the trust policies' fix. */
  grants: RuntimeRoleGrant[];
}

function evaluate(input: DoctorInput): Finding[] {
  const ctx: Context = { config: input.config, facts: input.facts, now: input.now ?? new Date(), grants: grantsOf(input.facts) };
  const findings: Finding[] = [];
  for (const evidence of input.facts.clusters) findings.push(...clusterFindings(ctx, evidence));
  return findings;
}

function settingsOf(evidence: ClusterEvidence): RuntimeRoleSettings | undefined {
  const read = evidence.securityConfiguration;
  if (!read?.ok) return undefined;
  const settings = runtimeRoleSettings(read.value.json);
  return typeof settings === 'string' ? undefined : settings;
}

/** Whether EMR sets the source identity of this cluster's runtime-role sessions: what its security configuration says (else the gateway's configuration). */
function propagates(evidence: ClusterEvidence): boolean {
  const settings = settingsOf(evidence);
  return settings?.enabled ? settings.propagateSourceIdentity : evidence.config.propagateSourceIdentity;
}

function grantsOf(facts: DoctorFacts): RuntimeRoleGrant[] {
  const byRole = new Map<string, { externalIds: string[]; sourceIdentity: string[] }>();
  for (const evidence of facts.clusters) {
    const role = evidence.instanceProfileRole;
    const externalId = settingsOf(evidence)?.externalId;
    if (!evidence.config.runtimeRoles || !role?.ok || externalId === undefined) continue;
    const entry = byRole.get(role.value.arn) ?? { externalIds: [], sourceIdentity: [] };
    if (!entry.externalIds.includes(externalId)) entry.externalIds.push(externalId);
    if (propagates(evidence) && !entry.sourceIdentity.includes(externalId)) entry.sourceIdentity.push(externalId);
    byRole.set(role.value.arn, entry);
  }
  return [...byRole].map(([arn, e]) => ({ instanceProfileRoleArn: arn, externalIds: e.externalIds, sourceIdentityExternalIds: e.sourceIdentity }));
}

function finding(check: CheckId, cluster: string, resource: string, status: Status, detail: string, extra: Partial<Pick<Finding, 'problem' | 'fixes' | 'runtimeRole'>> = {}): Finding {
  return { check, cluster, resource, ...(extra.runtimeRole ? { runtimeRole: extra.runtimeRole } : {}), status, ...(extra.problem ? { problem: extra.problem } : {}), detail, fixes: extra.fixes ?? [] };
}

/** A failed read as a finding: warn where nothing can read it from here (another account), else fail, with the permission doctor needs. */
function unreadable(check: CheckId, cluster: string, resource: string, failure: ReadFailure, runtimeRole?: string): Finding {
  const problem = describeFailure(failure);
  if (failure.kind === 'unreadable') return finding(check, cluster, resource, 'warn', 'not checkable from these credentials', { problem: `not checkable: ${problem}`, ...(runtimeRole ? { runtimeRole } : {}) });
  const fixes: Fix[] =
    failure.kind === 'denied'
      ? [
          {
            summary: `let the identity doctor runs as call ${failure.operation} (or run doctor with credentials that may)`,
            operation: 'doctor-permissions',
            parameters: {},
            document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: failure.operation, Resource: failure.resource.startsWith('arn:') ? failure.resource : '*' }] },
          },
        ]
      : [];
  return finding(check, cluster, resource, 'fail', 'not checked', { problem, fixes, ...(runtimeRole ? { runtimeRole } : {}) });
}

function clusterFindings(ctx: Context, evidence: ClusterEvidence): Finding[] {
  const { config } = evidence;
  const id = config.id;
  const arn = evidence.cluster.ok ? evidence.cluster.value.arn : configuredClusterArn(ctx.config, id);
  // A cluster of another account: first whether the gateway gets in (its access role), then the cluster as that account has it.
  const access = evidence.access ? accessRoleFindings(ctx, evidence, arn) : [];
  if (evidence.access && !evidence.access.account.ok) return access;
  if (!evidence.cluster.ok) {
    const failure = evidence.cluster.failure;
    if (failure.kind === 'missing') return [finding('cluster', id, arn, 'fail', 'DescribeCluster', { problem: `${describeFailure(failure)}: the configuration names a cluster EMR does not know (in ${ctx.config.region})` })];
    return [unreadable('cluster', id, arn, failure)];
  }
  const cluster = evidence.cluster.value;
  const out: Finding[] = [...access];
  const terminated = cluster.state.startsWith('TERMINAT');
  out.push(
    finding('cluster', id, arn, terminated ? 'fail' : 'pass', `${cluster.name}: ${cluster.state}, ${cluster.releaseLabel ?? 'no release label'}`, terminated ? { problem: `the cluster is ${cluster.state}: EMR adds no steps to it; point the configuration at a running cluster` } : {}),
  );
  if (terminated) return out;
  const logs = logUriFinding(ctx, evidence, arn);
  if (logs) out.push(logs);
  if (!config.runtimeRoles) return [...out, securityConfigurationFinding(ctx, evidence, arn)];

  out.push(releaseFinding(id, arn, cluster.releaseLabel), applicationsFinding(id, arn, cluster.applications), primaryFinding(id, arn, evidence));
  out.push(securityConfigurationFinding(ctx, evidence, arn));
  const source = sourceIdentityFinding(ctx, evidence);
  if (source) out.push(source);
  out.push(instanceProfileFinding(evidence));

  const ipRole = evidence.instanceProfileRole?.ok ? evidence.instanceProfileRole.value : undefined;
  if (ipRole) {
    // The catalogue roles of the cluster's own account, and those of accounts no configured cluster is in (runtime roles
    // of another account, as the documentation allows); a role of another cluster's account is checked with that cluster.
    const account = config.account ?? ctx.config.account;
    const clusterAccounts = new Set(ctx.config.clusters.map((c) => c.account ?? ctx.config.account));
    const ofThisCluster = (r: string) => {
      const roleAccount = splitArn(r)?.account ?? '';
      return roleAccount === account || !clusterAccounts.has(roleAccount);
    };
    for (const runtimeRole of ctx.config.runtimeRoles.filter(ofThisCluster)) {
      out.push(instanceProfilePermissions(ctx, evidence, ipRole, runtimeRole));
      out.push(...trustFindings(ctx, evidence, ipRole, runtimeRole));
    }
  }
  // The gateway submits to a cluster of another account through the access role (checked above), not its submitter role.
  if (!evidence.access) for (const submitter of ctx.facts.submitters) out.push(...submitterFindings(ctx, evidence, arn, submitter));
  return out;
}

// ---- a cluster of another account: the access role ----------------------------------------------------------

/** The session of a gateway role (of the gateway's account), as it calls STS. */
function gatewayCaller(roleArn: string): TrustCaller {
  const parts = splitArn(roleArn);
  const name = roleArn.slice(roleArn.lastIndexOf('/') + 1);
  const arn = `arn:${parts?.partition ?? 'aws'}:sts::${parts?.account ?? ''}:assumed-role/${name}/${PROBE.sessionName}`;
  // Its permission to assume the access role is the deployment's (serverless.yml; the template tests check it).
  return { principal: { kind: 'aws', arn, principalArn: roleArn, account: parts?.account ?? '' }, arn, type: 'AssumedRole', identityPolicies: 'unrestricted' };
}

function accessRoleFindings(ctx: Context, evidence: ClusterEvidence, clusterArnValue: string): Finding[] {
  const { config } = evidence;
  const id = config.id;
  const role = config.accessRole!;
  const account = config.account ?? ctx.config.account;
  const reached = evidence.access!.account;
  const gatewayRoles = ctx.facts.gatewayRoles ?? [];
  const propagate = config.propagateSourceIdentity;
  const trustFix = (): Fix => ({
    summary: `let the gateway's role${gatewayRoles.length === 1 ? '' : 's'} assume ${role.arn} ${role.externalId ? 'only with the ExternalId' : ''}${propagate ? ', setting the source identity' : ''} (in account ${account})`,
    operation: 'iam:UpdateAssumeRolePolicy',
    parameters: { RoleName: role.arn.slice(role.arn.lastIndexOf('/') + 1) },
    document: accessRoleTrustPolicy(gatewayRoles.length === 1 ? gatewayRoles[0]! : gatewayRoles, role.externalId, propagate),
    command: `aws iam update-assume-role-policy --role-name ${role.arn.slice(role.arn.lastIndexOf('/') + 1)} --policy-document file://fix.json`,
  });
  if (!reached.ok) {
    // Refused to doctor as one of the gateway's roles: the gateway is refused too. As anyone else, it proves nothing.
    const asGateway = reached.caller !== undefined && gatewayRoles.includes(resolvePrincipal(reached.caller)?.principalArn ?? '');
    const why = `${reached.failure.code}: ${reached.failure.message}`;
    return [
      asGateway
        ? finding('access-role-trust', id, role.arn, 'fail', `AssumeRole as ${reached.caller}`, {
            problem: `the gateway's role may not assume ${role.arn}${role.externalId ? ' with the configured externalId' : ''} (${why}): every call on ${id} is refused; the access role's trust (in account ${account}) must name it with that ExternalId, or the configuration's externalId is not the one the trust asks for`,
            fixes: gatewayRoles.length ? [trustFix()] : [],
          })
        : finding('access-role-trust', id, role.arn, 'warn', 'not checkable from these credentials', {
            problem: `not checkable: doctor${reached.caller ? ` (as ${reached.caller})` : ''} cannot get into account ${account} (${why}); run it as the gateway's role (it then assumes ${role.arn} as the gateway does), or give --account-profile ${account}=PROFILE`,
          }),
    ];
  }
  const out: Finding[] = [];
  const read = evidence.access!.accessRole;
  const trust = read?.ok ? compileTrust(read.value.trustPolicy, role.arn) : undefined;
  const decide = (gatewayRole: string, externalId: string | undefined) =>
    decideAssumeRole(gatewayCaller(gatewayRole), {
      roleArn: role.arn,
      trustPolicy: trust as CompiledPolicy,
      sessionName: PROBE.sessionName,
      ...(externalId !== undefined ? { externalId } : {}),
      ...(propagate ? { sourceIdentity: PROBE.sourceIdentity } : {}),
      now: ctx.now,
    });
  if (typeof trust === 'object' && gatewayRoles.length) {
    const refused = gatewayRoles.map((g) => [g, decide(g, role.externalId)] as const).filter(([, d]) => !d.allowed);
    out.push(
      refused.length
        ? finding('access-role-trust', id, role.arn, 'fail', refused.map(([g, d]) => `${g}: ${d.reason}`).join('; '), {
            problem: `the trust policy of ${role.arn} does not let ${refused.map(([g]) => g).join(', ')} assume it${role.externalId ? ' with the configured externalId' : ''}${propagate ? ' and set the source identity' : ''}: the gateway cannot reach ${id}`,
            fixes: [trustFix()],
          })
        : finding('access-role-trust', id, role.arn, 'pass', `${gatewayRoles.join(', ')} may assume it${role.externalId ? ' with the ExternalId' : ''}${reached.assumedAs ? `; doctor, as ${reached.assumedAs}, assumed it` : ''}`),
    );
    const open = gatewayRoles.flatMap((g) => [PROBE.wrongExternalId, undefined].map((x) => [g, x, decide(g, x)] as const)).filter(([, , d]) => d.allowed);
    out.push(
      !role.externalId
        ? finding('access-role-external-id', id, role.arn, 'warn', 'no externalId configured', { problem: `clusters[].accessRole names no externalId: anyone in the gateway's account who may assume roles of ${account} and is named by the trust gets in; set one, and require it in the trust policy` })
        : open.length
          ? finding('access-role-external-id', id, role.arn, 'fail', open.map(([g, x, d]) => `${g} with ${x === undefined ? 'no ExternalId' : 'a wrong ExternalId'}: ${d.reason}`).join('; '), {
              problem: `the trust policy of ${role.arn} lets the gateway's role in without the ExternalId: it does not tie the role to this gateway`,
              fixes: [trustFix()],
            })
          : finding('access-role-external-id', id, role.arn, 'pass', `a wrong ExternalId and none are refused (${decide(gatewayRoles[0]!, PROBE.wrongExternalId).reason})`),
    );
  } else if (reached.assumedAs) {
    out.push(finding('access-role-trust', id, role.arn, 'pass', `doctor, as ${reached.assumedAs}, assumed it with the ExternalId`));
    out.push(read && !read.ok ? unreadable('access-role-external-id', id, role.arn, read.failure) : finding('access-role-external-id', id, role.arn, 'warn', 'not checked', { problem: typeof trust === 'string' ? trust : 'not checkable: name the gateway\'s roles with --gateway-role' }));
  } else {
    out.push(read && !read.ok ? unreadable('access-role-trust', id, role.arn, read.failure) : finding('access-role-trust', id, role.arn, 'warn', 'not checked', { problem: typeof trust === 'string' ? trust : 'not checkable: name the gateway\'s roles with --gateway-role' }));
  }
  if (!read?.ok) {
    if (read) out.push(unreadable('access-role-permissions', id, role.arn, read.failure));
    return out;
  }
  out.push(accessRolePermissions(ctx, read.value, id, clusterArnValue));
  return out;
}

/** The access role's permissions on the cluster: the catalogue's roles allowed, none outside it, and the reads and cancels. */
function accessRolePermissions(ctx: Context, role: RoleFacts, id: string, clusterArnValue: string): Finding {
  const compiled = compileIdentity(role);
  if (typeof compiled === 'string') return finding('access-role-permissions', id, role.arn, 'fail', 'not evaluated', { problem: compiled });
  const session = `arn:${splitArn(role.arn)?.partition ?? 'aws'}:sts::${splitArn(role.arn)?.account ?? ''}:assumed-role/${role.name}/${PROBE.sessionName}`;
  const documents = Object.fromEntries(role.policies.map((p) => [policyLabel(p), p.document]));
  const engine = new PolicyEngine([{ match: role.arn, policies: Object.keys(documents) }], documents);
  const decide = (action: string, executionRoleArn?: string, resource = clusterArnValue): Decision =>
    engine.evaluate({ callerArn: session, action, resource, context: executionRoleArn ? { [GATEWAY_CONTEXT_KEYS.executionRoleArn]: executionRoleArn } : {}, now: ctx.now });
  const problems: string[] = [];
  const catalogue = ctx.config.runtimeRoles;
  for (const action of [GATEWAY_ACTIONS.submit, 'elasticmapreduce:GetClusterSessionCredentials', ...ACCESS_ROLE_APP_UI_LINK_ACTIONS]) {
    const refused = catalogue.filter((r) => !decide(action, r).allowed);
    if (refused.length) problems.push(`${action} refused with ${refused.join(', ')}`);
    const leaked = outsideProbes(ctx.config.partition, ctx.config.account, catalogue).filter((r) => decide(action, r).allowed);
    if (leaked.length) problems.push(`${action} allowed with roles outside the catalogue, e.g. ${leaked[0]} (no ExecutionRoleArn condition limits it)`);
  }
  const reads = [...ACCESS_ROLE_READ_ACTIONS, 'elasticmapreduce:CreatePersistentAppUI'].filter((a) => !decide(a).allowed);
  if (reads.length) problems.push(`${reads.join(', ')} refused`);
  // The cluster's step logs, in its account's bucket (GET /jobs/{id}/logs reads them through this role).
  const cluster = ctx.config.clusters.find((c) => c.id === id);
  const place = cluster ? stepLogPlaces([cluster])[0] : undefined;
  const logKey = place && `${place.prefix}${id}/steps/s-DOCTORPROBE/stdout.gz`;
  if (place && !decide('s3:GetObject', undefined, `arn:${ctx.config.partition}:s3:::${place.bucket}/${logKey}`).allowed) problems.push(`s3:GetObject of its step logs (s3://${place.bucket}/${place.prefix}${id}/steps/) refused`);
  if (!problems.length) {
    return finding('access-role-permissions', id, role.arn, 'pass', `steps, session credentials and Spark UI links on ${clusterArnValue} with each of the ${catalogue.length} catalogue roles and no other; reads and cancels allowed${place ? '; its step logs readable' : ''}`);
  }
  const name = role.arn.slice(role.arn.lastIndexOf('/') + 1);
  return finding('access-role-permissions', id, role.arn, 'fail', problems.join('; '), {
    problem: `${role.arn} ${problems.join('; ')}: ${problems.some((p) => p.includes('outside')) ? "IAM in the cluster's account no longer limits the gateway to the catalogue" : 'the gateway cannot do its work on the cluster'}`,
    fixes: [
      {
        summary: `give ${name} the gateway's permissions on ${id} (in its account): steps and session credentials with the catalogue's roles only, reads and cancels`,
        operation: 'iam:PutRolePolicy',
        parameters: { RoleName: name, PolicyName: ACCESS_ROLE_POLICY },
        document: accessRolePolicy([clusterArnValue], catalogue, { partition: ctx.config.partition, places: place ? [place] : [] }),
        command: `aws iam put-role-policy --role-name ${name} --policy-name ${ACCESS_ROLE_POLICY} --policy-document file://fix.json`,
      },
    ],
  });
}

// ---- the cluster ------------------------------------------------------------------------------------------

/** [major, minor, patch] of `emr-X.Y.Z`, or undefined. */
export function releaseVersion(label: string): [number, number, number] | undefined {
  const m = /^emr-(\d+)\.(\d+)\.(\d+)(?:$|[-.])/.exec(label);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function releaseFinding(id: string, arn: string, label: string | undefined): Finding {
  const version = label === undefined ? undefined : releaseVersion(label);
  const min = releaseVersion(MIN_RELEASE)!;
  const fix: Fix = {
    summary: `launch a new cluster of ${MIN_RELEASE} or later (a cluster's release cannot change), and put its id in the gateway's configuration`,
    operation: 'emr:RunJobFlow',
    parameters: {},
    document: { ReleaseLabel: MIN_RELEASE },
  };
  if (!version) return finding('release', id, arn, 'fail', `ReleaseLabel: ${label ?? '(none)'}`, { problem: `${label === undefined ? 'the cluster has no release label (an AMI-version cluster)' : `"${label}" is not a release label emr-X.Y.Z`}: runtime roles need ${MIN_RELEASE} or later`, fixes: [fix] });
  const older = version[0] !== min[0] ? version[0] < min[0] : version[1] !== min[1] ? version[1] < min[1] : version[2] < min[2];
  return older ? finding('release', id, arn, 'fail', `ReleaseLabel: ${label}`, { problem: `release ${label} is older than ${MIN_RELEASE}: EMR steps support runtime roles from ${MIN_RELEASE} on`, fixes: [fix] }) : finding('release', id, arn, 'pass', `ReleaseLabel: ${label}`);
}

function applicationsFinding(id: string, arn: string, applications: readonly { name: string; version?: string }[]): Finding {
  const names = applications.map((a) => a.name);
  const detail = `Applications: ${names.join(', ') || '(none)'}`;
  if (names.some((n) => /^(spark|hive)$/i.test(n))) return finding('applications', id, arn, 'pass', detail);
  return finding('applications', id, arn, 'fail', detail, {
    problem: 'neither Spark nor Hive is installed: EMR runs steps with runtime roles only for Spark and Hive',
    fixes: [{ summary: 'launch a new cluster with Spark (or Hive): applications cannot be added to a running cluster', operation: 'emr:RunJobFlow', parameters: {}, document: { Applications: [{ Name: 'Spark' }, { Name: 'Hive' }] } }],
  });
}

function primaryFinding(id: string, arn: string, evidence: ClusterEvidence): Finding {
  const cluster = evidence.cluster.ok ? evidence.cluster.value : undefined;
  const read = cluster?.primaryNodes;
  if (!read) return finding('single-primary', id, arn, 'fail', 'not checked', { problem: 'the cluster was not read' });
  if (!read.ok) return unreadable('single-primary', id, arn, read.failure);
  const { count, source } = read.value;
  const detail = `${count} primary node${count === 1 ? '' : 's'} (${source === 'instance-fleet' ? "the MASTER fleet's target capacity" : "the MASTER instance group's RequestedInstanceCount"})`;
  if (count <= 1) return finding('single-primary', id, arn, 'pass', detail);
  const document =
    source === 'instance-fleet'
      ? { Instances: { InstanceFleets: [{ InstanceFleetType: 'MASTER', TargetOnDemandCapacity: 1, TargetSpotCapacity: 0 }] } }
      : { Instances: { InstanceGroups: [{ InstanceRole: 'MASTER', InstanceCount: 1 }] } };
  return finding('single-primary', id, arn, 'fail', detail, {
    problem: `${count} primary nodes: a multi-primary (highly available) cluster, on which EMR does not support runtime roles`,
    fixes: [{ summary: 'launch a new cluster with one primary node (the number of primary nodes cannot change)', operation: 'emr:RunJobFlow', parameters: {}, document }],
  });
}

function configFix(ctx: Context, clusterId: string, key: keyof ClusterConfig, value: unknown): Fix {
  const index = ctx.config.clusters.findIndex((c) => c.id === clusterId);
  return {
    summary: `set clusters[${index}].${key}: ${JSON.stringify(value)} in the gateway's configuration${ctx.config.file ? ` (${ctx.config.file})` : ''}, as the cluster is`,
    operation: 'config',
    parameters: { ...(ctx.config.file ? { file: ctx.config.file } : {}), path: `clusters[${index}].${key}` },
    document: { [key]: value },
  };
}

function securityConfigurationFinding(ctx: Context, evidence: ClusterEvidence, arn: string): Finding {
  const { config } = evidence;
  const cluster = evidence.cluster.ok ? evidence.cluster.value : undefined;
  const name = cluster?.securityConfiguration;
  const newConfiguration = (existing: unknown): Fix => {
    const base = typeof existing === 'object' && existing !== null && !Array.isArray(existing) ? (existing as Record<string, unknown>) : {};
    const authorization = { ...((base.AuthorizationConfiguration as Record<string, unknown> | undefined) ?? {}), ...runtimeRoleSecurityConfiguration(config.propagateSourceIdentity).AuthorizationConfiguration };
    const newName = `${name ?? config.id}-runtime-roles`;
    return {
      summary: `create this security configuration, launch a new cluster with it (a cluster's security configuration cannot change) and put its id in the gateway's configuration`,
      operation: 'emr:CreateSecurityConfiguration',
      parameters: { Name: newName },
      document: { ...base, AuthorizationConfiguration: authorization },
      command: `aws emr create-security-configuration --name ${newName} --security-configuration file://fix.json`,
    };
  };
  if (!name) {
    if (!config.runtimeRoles) return finding('security-configuration', config.id, arn, 'pass', 'no security configuration: no runtime roles, as configured (runtimeRoles: false)');
    return finding('security-configuration', config.id, arn, 'fail', 'no security configuration', { problem: 'the cluster has no security configuration, so no runtime roles', fixes: [newConfiguration(undefined)] });
  }
  const read = evidence.securityConfiguration;
  if (!read) return finding('security-configuration', config.id, name, 'fail', 'not checked', { problem: 'the security configuration was not read' });
  if (!read.ok) return unreadable('security-configuration', config.id, name, read.failure);
  const settings = runtimeRoleSettings(read.value.json);
  if (typeof settings === 'string') return finding('security-configuration', config.id, name, 'fail', 'DescribeSecurityConfiguration', { problem: settings });
  const detail = `EnableApplicationScopedIAMRole: ${settings.enabled}`;
  if (settings.enabled === config.runtimeRoles) return finding('security-configuration', config.id, name, 'pass', detail);
  if (settings.enabled) {
    return finding('security-configuration', config.id, name, 'fail', detail, {
      problem: `${name} enables runtime roles, but the gateway's configuration says runtimeRoles: false: the gateway sends steps without one, which EMR refuses ("Runtime roles are required for this cluster")`,
      fixes: [configFix(ctx, config.id, 'runtimeRoles', true)],
    });
  }
  return finding('security-configuration', config.id, name, 'fail', detail, {
    problem: `${name} does not enable runtime roles (EnableApplicationScopedIAMRole), but the gateway's configuration says runtimeRoles: true: EMR refuses every step that names one ("Runtime roles are not supported on this cluster")`,
    fixes: [newConfiguration(JSON.parse(read.value.json))],
  });
}

/** A LogUri as one place, `s3://BUCKET/PREFIX/`: EMR answers it as it was given, s3n:// as often as s3://, with or without its last slash. */
function logPlace(uri: string): string {
  try {
    const { bucket, prefix } = parseLogUri(uri.trim());
    return `s3://${bucket}/${prefix}`;
  } catch {
    return uri;
  }
}

/** clusters[].logUri against the cluster's LogUri: GET /jobs/{id}/logs reads where the configuration says. */
function logUriFinding(ctx: Context, evidence: ClusterEvidence, arn: string): Finding | undefined {
  const id = evidence.config.id;
  const configured = evidence.config.logUri;
  const actual = evidence.cluster.ok ? evidence.cluster.value.logUri : undefined;
  if (configured === undefined && actual === undefined) return undefined;
  // The cluster's, as the configuration writes it (s3://): the gateway reads it over S3's API, as EMR's console does.
  const asConfigured = actual === undefined ? undefined : logPlace(actual);
  const detail = `LogUri: ${actual ?? '(none)'}; the gateway's configuration: logUri: ${configured ?? '(none)'}`;
  if (configured !== undefined && actual !== undefined && logPlace(configured) === asConfigured) return finding('log-uri', id, arn, 'pass', detail);
  if (actual === undefined) {
    return finding('log-uri', id, arn, 'fail', detail, {
      problem: `the cluster has no LogUri: EMR archives none of its steps' logs in S3, so GET /jobs/{id}/logs answers LogNotYetWritten for every job (a LogUri is set when a cluster is made: remove logUri here, or use a cluster made with one)`,
    });
  }
  const fix = configFix(ctx, id, 'logUri', asConfigured);
  if (configured === undefined) {
    return finding('log-uri', id, arn, 'warn', detail, { problem: `the cluster archives its steps' logs under ${actual}, but the configuration names no logUri: GET /jobs/{id}/logs answers LogsNotConfigured, and the API's role may not read them`, fixes: [fix] });
  }
  return finding('log-uri', id, arn, 'fail', detail, {
    problem: `the cluster archives its steps' logs under ${asConfigured}, not ${configured}: GET /jobs/{id}/logs looks (and the API's role may read) where EMR writes nothing`,
    fixes: [fix],
  });
}

function sourceIdentityFinding(ctx: Context, evidence: ClusterEvidence): Finding | undefined {
  const read = evidence.securityConfiguration;
  const settings = settingsOf(evidence);
  if (!read?.ok || !settings?.enabled) return undefined; // the security-configuration finding says why
  const configured = evidence.config.propagateSourceIdentity;
  const detail = `PropagateSourceIdentity: ${settings.propagateSourceIdentity}; the gateway's configuration: propagateSourceIdentity: ${configured}`;
  if (settings.propagateSourceIdentity === configured) return finding('source-identity', evidence.config.id, read.value.name, 'pass', detail);
  return finding('source-identity', evidence.config.id, read.value.name, 'fail', detail, {
    problem: settings.propagateSourceIdentity
      ? `${read.value.name} propagates the source identity, but the gateway's configuration says propagateSourceIdentity: false: the gateway does not send its callers' source identity, so CloudTrail does not name them`
      : `${read.value.name} does not propagate the source identity (PropagateSourceIdentity), but the gateway's configuration says propagateSourceIdentity: true: the callers' source identity stops at EMR, and CloudTrail does not name them in the runtime role's sessions`,
    fixes: [configFix(ctx, evidence.config.id, 'propagateSourceIdentity', settings.propagateSourceIdentity)],
  });
}

function instanceProfileFinding(evidence: ClusterEvidence): Finding {
  const id = evidence.config.id;
  const cluster = evidence.cluster.ok ? evidence.cluster.value : undefined;
  const name = cluster?.instanceProfile;
  // The role of the profile's name, as `aws emr create-default-roles` pairs EMR_EC2_DefaultRole with its role.
  const addRole = (profile: string, roleName = profile): Fix => ({
    summary: `add the instance profile role ${roleName} to ${profile} (the role of its name, as EMR's default roles are paired; another role works as well if the catalogue roles trust it)`,
    operation: 'iam:AddRoleToInstanceProfile',
    parameters: { InstanceProfileName: profile, RoleName: roleName },
    document: { InstanceProfileName: profile, RoleName: roleName },
    command: `aws iam add-role-to-instance-profile --instance-profile-name ${profile} --role-name ${roleName}`,
  });
  if (!name) return finding('instance-profile', id, cluster?.arn ?? id, 'fail', 'Ec2InstanceAttributes.IamInstanceProfile: (none)', { problem: 'DescribeCluster names no instance profile (Ec2InstanceAttributes.IamInstanceProfile)' });
  const profile = evidence.instanceProfile;
  if (!profile) return finding('instance-profile', id, name, 'fail', 'not checked', { problem: 'the instance profile was not read' });
  if (!profile.ok) {
    if (profile.failure.kind !== 'missing') return unreadable('instance-profile', id, name, profile.failure);
    return finding('instance-profile', id, name, 'fail', 'GetInstanceProfile', {
      problem: `${describeFailure(profile.failure)}: the cluster's nodes have no instance profile to run with`,
      fixes: [
        { summary: `create the instance profile ${name}`, operation: 'iam:CreateInstanceProfile', parameters: { InstanceProfileName: name }, document: { InstanceProfileName: name }, command: `aws iam create-instance-profile --instance-profile-name ${name}` },
        addRole(name),
      ],
    });
  }
  const resource = profile.value.arn;
  const roleArn = profile.value.roleArns[0];
  if (!roleArn) {
    return finding('instance-profile', id, resource, 'fail', `instance profile ${name}: no role`, {
      problem: `the instance profile ${name} holds no role: EC2 gives the cluster's nodes no credentials, so EMR cannot assume any runtime role`,
      fixes: [addRole(name)],
    });
  }
  const role = evidence.instanceProfileRole;
  if (!role) return finding('instance-profile', id, resource, 'fail', 'not checked', { problem: `the role ${roleArn} was not read` });
  if (!role.ok) return role.failure.kind === 'missing' ? finding('instance-profile', id, resource, 'fail', `instance profile ${name}: ${roleArn}`, { problem: `${describeFailure(role.failure)}: the instance profile's role does not exist` }) : unreadable('instance-profile', id, resource, role.failure);
  return finding('instance-profile', id, resource, 'pass', `instance profile ${name} holds ${roleArn}`);
}

// ---- policies ---------------------------------------------------------------------------------------------

const policyLabel = (p: PolicyFacts): string => (p.kind === 'inline' ? p.name : `${p.name} (managed)`);

interface CompiledRole {
  identity: CompiledPolicy[];
  /** Compiled label → the policy read. */
  byLabel: Map<string, PolicyFacts>;
}

function compileProblem(error: unknown): string {
  if (error instanceof PolicyCompileError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function compileIdentity(role: RoleFacts): CompiledRole | string {
  const byLabel = new Map<string, PolicyFacts>();
  const identity: CompiledPolicy[] = [];
  for (const policy of role.policies) {
    const label = policyLabel(policy);
    try {
      identity.push(compilePolicy(label, policy.document, 'identity'));
    } catch (error) {
      return `policy ${label} of ${role.arn} cannot be evaluated: ${compileProblem(error)}`;
    }
    byLabel.set(label, policy);
  }
  return { identity, byLabel };
}

function compileTrust(document: unknown, roleArn: string): CompiledPolicy | string {
  try {
    return compilePolicy(TRUST_LABEL, document, 'resource');
  } catch (error) {
    return `the trust policy of ${roleArn} cannot be evaluated: ${compileProblem(error)}`;
  }
}

/** The instance profile role's session, as an EMR node calls STS with it. */
function instanceProfileCaller(role: RoleFacts, identityPolicies: readonly CompiledPolicy[]): TrustCaller {
  const parts = splitArn(role.arn);
  const partition = parts?.partition ?? 'aws';
  const account = parts?.account ?? '';
  const arn = `arn:${partition}:sts::${account}:assumed-role/${role.name}/${PROBE.instanceId}`;
  return {
    principal: { kind: 'aws', arn, principalArn: role.arn, account },
    arn,
    type: 'AssumedRole',
    userId: `${role.id ?? 'AROAEMRGATEWAYDOCTOR'}:${PROBE.instanceId}`,
    identityPolicies,
  };
}

/** Per policy (by label): the statements to take out, and those to put in. */
type Edits = Map<string, { remove: Set<number>; add: Record<string, unknown>[] }>;

function edit(edits: Edits, label: string): { remove: Set<number>; add: Record<string, unknown>[] } {
  let entry = edits.get(label);
  if (!entry) {
    entry = { remove: new Set(), add: [] };
    edits.set(label, entry);
  }
  return entry;
}

/** The fixes of a role's permissions policies: one call per policy changed. `newPolicy` names the inline policy statements are added to when it does not exist. */
function identityFixes(roleArn: string, compiled: CompiledRole, edits: Edits, why: string): Fix[] {
  const fixes: Fix[] = [];
  for (const [label, { remove, add }] of edits) {
    const policy = compiled.byLabel.get(label);
    const document = mergeStatements(policy?.document, remove, add);
    const removed = [...remove].map((i) => `statement ${i}${statementSid(policy?.document, i)}`);
    const summary = [add.length ? `put the documentation's statement${add.length > 1 ? 's' : ''} ${add.map((s) => String(s.Sid)).join(', ')}` : '', removed.length ? `take out ${removed.join(', ')}` : '']
      .filter(Boolean)
      .join(' and ');
    const what = `${summary} ${policy ? `in policy ${label}` : `in a new inline policy ${label}`} of ${roleArn}: ${why}`;
    if (!document.Statement.length && policy) fixes.push(removePolicyFix(roleArn, policy, `${policy.kind === 'inline' ? 'delete' : 'detach'} policy ${label} of ${roleArn} (every statement of it goes): ${why}`));
    else if (policy?.kind === 'managed') fixes.push(createPolicyVersionFix(policy.arn!, document, what));
    else fixes.push(putRolePolicyFix(roleArn, policy?.name ?? label, document, what));
  }
  return fixes;
}

function statementSid(document: unknown, index: number): string {
  const sid = statementsOf(document)[index]?.Sid;
  return typeof sid === 'string' ? ` (Sid ${sid})` : '';
}

function removeRefs(edits: Edits, refs: readonly StatementRef[]): void {
  for (const ref of refs) edit(edits, ref.policy).remove.add(ref.index);
}

/** The ExternalId EMR sends for this cluster's runtime-role sessions. */
const externalIdOf = (evidence: ClusterEvidence): string | undefined => settingsOf(evidence)?.externalId;

function instanceProfilePermissions(ctx: Context, evidence: ClusterEvidence, ipRole: RoleFacts, runtimeRole: string): Finding {
  const id = evidence.config.id;
  const compiled = compileIdentity(ipRole);
  if (typeof compiled === 'string') return finding('instance-profile-permissions', id, ipRole.arn, 'fail', 'not evaluated', { problem: compiled, runtimeRole });
  const caller = instanceProfileCaller(ipRole, compiled.identity);
  const externalId = externalIdOf(evidence);
  const propagate = propagates(evidence);
  // The trust policy plays no part here: only the identity side of each action is evaluated.
  const ask: AssumeRoleAsk = {
    roleArn: runtimeRole,
    trustPolicy: compilePolicy(TRUST_LABEL, { Version: '2012-10-17', Statement: [] }, 'resource'),
    sessionName: PROBE.sessionName,
    ...(externalId !== undefined ? { externalId } : {}),
    ...(propagate ? { sourceIdentity: PROBE.sourceIdentity } : {}),
    tags: PROBE.tags,
    now: ctx.now,
  };
  const context = assumeRoleContext(caller, ask);
  const resource = requestedResource(runtimeRole);
  const statements = compiled.identity.flatMap((p) => p.statements);
  const problems: string[] = [];
  const reasons: string[] = [];
  const edits: Edits = new Map();
  let missing = false;
  for (const action of actionsNeeded(ask)) {
    const about = statements.filter((s) => s.matchesAction(action));
    const outcome = evaluateStatements(about, action, resource, context);
    if (outcome.deniedBy.length) {
      problems.push(`${action} is explicitly denied by ${outcome.deniedBy.map(describeStatement).join(', ')}`);
      removeRefs(edits, outcome.deniedBy);
    } else if (!outcome.allowedBy.length) {
      problems.push(`no statement allows ${action}${describeNearMisses(nearMisses(about, resource, context))}`);
      missing = true;
    } else {
      reasons.push(`${action}: allowed by ${outcome.allowedBy.map(describeStatement).join(', ')}`);
    }
  }
  if (!problems.length) {
    const detail = reasons.join('; ');
    if (ipRole.permissionsBoundaryArn) {
      return finding('instance-profile-permissions', id, ipRole.arn, 'warn', detail, { runtimeRole, problem: `${ipRole.arn} has a permissions boundary (${ipRole.permissionsBoundaryArn}), which doctor does not evaluate: it must allow these actions too` });
    }
    return finding('instance-profile-permissions', id, ipRole.arn, 'pass', detail, { runtimeRole });
  }
  if (missing) {
    const setSourceIdentity = ctx.facts.clusters.some((c) => c.instanceProfileRole?.ok && c.instanceProfileRole.value.arn === ipRole.arn && c.config.runtimeRoles && propagates(c)) || propagate;
    edit(edits, RUNTIME_ROLE_USAGE_POLICY).add.push(...runtimeRoleUsagePolicy(ctx.config.runtimeRoles, setSourceIdentity).Statement);
  }
  return finding('instance-profile-permissions', id, ipRole.arn, 'fail', reasons.join('; ') || 'nothing allowed', {
    runtimeRole,
    problem: `${ipRole.arn} (the instance profile role of ${id}) may not assume ${runtimeRole} as EMR does: ${problems.join('; ')}`,
    fixes: identityFixes(ipRole.arn, compiled, edits, `the instance profile role may assume the catalogue's runtime roles (step 2 of the EMR runtime-role setup)`),
  });
}

/** The trust policy's statements that the documentation gives for this role (its fix), from every cluster's grant. */
function documentedTrust(ctx: Context, evidence: ClusterEvidence, ipRole: RoleFacts): Record<string, unknown>[] {
  const grants = [...ctx.grants];
  if (!grants.some((g) => g.instanceProfileRoleArn === ipRole.arn)) {
    const externalId = externalIdOf(evidence);
    if (externalId === undefined) return [];
    grants.push({ instanceProfileRoleArn: ipRole.arn, externalIds: [externalId], sourceIdentityExternalIds: propagates(evidence) ? [externalId] : [] });
  }
  return runtimeRoleTrustPolicy(grants).Statement;
}

function trustFindings(ctx: Context, evidence: ClusterEvidence, ipRole: RoleFacts, runtimeRole: string): Finding[] {
  const id = evidence.config.id;
  const read = ctx.facts.catalogue.get(runtimeRole);
  const both = (make: (check: CheckId) => Finding): Finding[] => [make('trust-policy'), make('trust-external-id')];
  if (!read) return both((check) => finding(check, id, runtimeRole, 'fail', 'not checked', { problem: `${runtimeRole} was not read`, runtimeRole }));
  if (!read.ok) {
    if (read.failure.kind === 'missing') {
      const statements = documentedTrust(ctx, evidence, ipRole);
      const name = runtimeRole.slice(runtimeRole.lastIndexOf('/') + 1);
      const resource = runtimeRole.slice(runtimeRole.indexOf(':role/') + ':role'.length);
      const path = resource.slice(0, resource.lastIndexOf('/') + 1);
      const fixes: Fix[] = statements.length
        ? [{ summary: `create the runtime role ${runtimeRole} with the documentation's trust policy`, operation: 'iam:CreateRole', parameters: { RoleName: name, Path: path }, document: { Version: '2012-10-17', Statement: statements }, command: `aws iam create-role --role-name ${name} --path ${path} --assume-role-policy-document file://fix.json` }]
        : [];
      return [finding('trust-policy', id, runtimeRole, 'fail', 'GetRole', { runtimeRole, problem: `${describeFailure(read.failure)}: the catalogue names a role that does not exist`, fixes })];
    }
    return both((check) => unreadable(check, id, runtimeRole, read.failure, runtimeRole));
  }
  const role = read.value;
  const trust = compileTrust(role.trustPolicy, role.arn);
  const documentedStatements = documentedTrust(ctx, evidence, ipRole);
  const trustFix = (remove: readonly StatementRef[], why: string): Fix[] => {
    if (!documentedStatements.length && !remove.length) return [];
    const document = mergeStatements(typeof trust === 'string' ? undefined : role.trustPolicy, new Set(remove.map((r) => r.index)), documentedStatements);
    const removed = remove.length ? ` and take out ${remove.map((r) => `statement ${r.index}${r.sid ? ` (Sid ${r.sid})` : ''}`).join(', ')}` : '';
    return [updateTrustPolicyFix(role.arn, document, `put the documentation's trust statements (${documentedStatements.map((s) => String(s.Sid)).join(', ')})${removed} in the trust policy of ${role.arn}: ${why}`)];
  };
  if (typeof trust === 'string') return both((check) => finding(check, id, role.arn, 'fail', 'not evaluated', { runtimeRole, problem: trust, fixes: trustFix([], 'a trust policy the engine can evaluate') }));

  // The instance profile side as the documentation has it, so that only the trust policy decides here.
  const propagate = propagates(evidence);
  const documented = compilePolicy(RUNTIME_ROLE_USAGE_POLICY, runtimeRoleUsagePolicy([runtimeRole], propagate), 'identity');
  const caller = instanceProfileCaller(ipRole, [documented]);
  const externalId = externalIdOf(evidence);
  const ask = (over: Partial<AssumeRoleAsk>): AssumeRoleAsk => ({ roleArn: role.arn, trustPolicy: trust, sessionName: PROBE.sessionName, now: ctx.now, ...over });
  const out: Finding[] = [];

  const decision = decideAssumeRole(caller, ask({ ...(externalId !== undefined ? { externalId } : {}), ...(propagate ? { sourceIdentity: PROBE.sourceIdentity } : {}) }));
  const what = `${ipRole.arn} assuming ${role.arn}${externalId !== undefined ? ' with the ExternalId' : ''}${propagate ? ', setting the source identity' : ''}`;
  if (decision.allowed) out.push(finding('trust-policy', id, role.arn, 'pass', `${what}: ${decision.reason}`, { runtimeRole }));
  else {
    const denying = decision.actions.flatMap((a) => a.trust.deniedBy);
    out.push(
      finding('trust-policy', id, role.arn, 'fail', `${what}: denied`, {
        runtimeRole,
        problem: `the trust policy of ${role.arn} does not let ${ipRole.arn} (the instance profile role of ${id}) assume it as EMR does: ${decision.reason}`,
        fixes: trustFix(denying, `the instance profile role may assume it with the ExternalId${propagate ? ' and set the source identity' : ''} (step 3 of the EMR runtime-role setup)`),
      }),
    );
  }

  if (externalId === undefined) {
    const name = evidence.securityConfiguration?.ok ? evidence.securityConfiguration.value.name : 'the security configuration';
    out.push(finding('trust-external-id', id, role.arn, 'warn', 'not evaluated', { runtimeRole, problem: `${name} shows no ExternalId (ApplicationScopedIAMRoleConfiguration.ExternalId), so doctor cannot tell whether the trust policy requires it` }));
    return out;
  }
  const without = decideAssumeRole(caller, ask({}));
  const wrong = decideAssumeRole(caller, ask({ externalId: PROBE.wrongExternalId }));
  const probes: [string, AssumeRoleDecision][] = [
    ['without an ExternalId', without],
    ['with another ExternalId', wrong],
  ];
  const leaks = probes.filter(([, d]) => d.allowed);
  if (!leaks.length) {
    out.push(finding('trust-external-id', id, role.arn, 'pass', `without the ExternalId: ${without.reason}`, { runtimeRole }));
    return out;
  }
  const allowing = uniqueRefs(leaks.flatMap(([, d]) => d.actions.flatMap((a) => [...a.trust.allowedBy, ...a.trust.allowedForAccount])));
  out.push(
    finding('trust-external-id', id, role.arn, 'fail', leaks.map(([how, d]) => `${how}: ${d.reason}`).join('; '), {
      runtimeRole,
      problem: `the trust policy of ${role.arn} lets ${ipRole.arn} assume it ${leaks.map(([how]) => how).join(' and ')} (allowed by ${allowing.map(describeStatement).join(', ')}): any cluster, or any process with this instance profile's credentials, can, not only the clusters of this security configuration`,
      fixes: trustFix(allowing, "only the security configurations' ExternalIds let the instance profile role assume it"),
    }),
  );
  return out;
}

const uniqueRefs = (refs: readonly StatementRef[]): StatementRef[] => uniqueBy(refs, (r) => `${r.policy}\n${r.index}`);

// ---- the submitter role -----------------------------------------------------------------------------------

/** Role ARNs no catalogue holds, each close to one it does (a wildcard, a prefix, another account would let them through). */
export function outsideProbes(partition: string, account: string, catalogue: readonly string[]): string[] {
  const probes = new Set<string>([`arn:${partition}:iam::${account}:role/${PROBE.outsideRole}`]);
  for (const arn of catalogue) {
    probes.add(`${arn}DoctorProbe`);
    const parts = splitArn(arn);
    if (parts) probes.add(`arn:${parts.partition}:iam::${parts.account === PROBE.otherAccount ? '111111111111' : PROBE.otherAccount}:${parts.resource}`);
  }
  return [...probes].filter((p) => !catalogue.includes(p));
}

function submitterFindings(ctx: Context, evidence: ClusterEvidence, clusterArnValue: string, submitter: DoctorFacts['submitters'][number]): Finding[] {
  const id = evidence.config.id;
  if (!submitter.role.ok) {
    const failure = submitter.role.failure;
    if (failure.kind === 'missing') {
      return [
        finding('submitter-catalogue', id, submitter.requested, 'fail', 'GetRole', {
          problem: `${describeFailure(failure)}: the gateway's submitter role is not there (--submitter-role names it: the deployed stack's output SubmitterRoleArn, or emr-gateway-submitter on the local stack)`,
        }),
      ];
    }
    return [unreadable('submitter-catalogue', id, submitter.requested, failure)];
  }
  const role = submitter.role.value;
  const compiled = compileIdentity(role);
  if (typeof compiled === 'string') return [finding('submitter-catalogue', id, role.arn, 'fail', 'not evaluated', { problem: compiled })];
  const parts = splitArn(role.arn);
  const session = `arn:${parts?.partition ?? 'aws'}:sts::${parts?.account ?? ''}:assumed-role/${role.name}/${PROBE.sessionName}`;
  const principal = resolvePrincipal(session);
  const documents = Object.fromEntries(role.policies.map((p) => [policyLabel(p), p.document]));
  const engine = new PolicyEngine([{ match: principal?.principalArn ?? role.arn, policies: Object.keys(documents) }], documents);
  const propagate = propagates(evidence);
  const decide = (executionRoleArn: string): Decision =>
    engine.evaluate({
      callerArn: session,
      action: GATEWAY_ACTIONS.submit,
      resource: clusterArnValue,
      context: { [GATEWAY_CONTEXT_KEYS.executionRoleArn]: executionRoleArn },
      ...(propagate ? { sourceIdentity: PROBE.sourceIdentity } : {}),
      now: ctx.now,
    });
  const allClusters = ctx.config.clusters.map((c) => clusterArn(ctx.config.partition, ctx.config.region, ctx.config.account, c.id));
  const documentedStatement = submitterAddStepsStatement(allClusters, ctx.config.runtimeRoles);
  const why = "the gateway may add steps with the catalogue's runtime roles, on the configured clusters, and with no other role";
  const out: Finding[] = [];

  const refused = ctx.config.runtimeRoles.map((r) => [r, decide(r)] as const).filter(([, d]) => !d.allowed);
  if (!refused.length) out.push(finding('submitter-catalogue', id, role.arn, 'pass', `AddJobFlowSteps on ${clusterArnValue} allowed with each of the ${ctx.config.runtimeRoles.length} catalogue roles`));
  else {
    const edits: Edits = new Map();
    removeRefs(edits, uniqueRefs(refused.flatMap(([, d]) => d.deniedBy)));
    if (refused.some(([, d]) => !d.deniedBy.length)) edit(edits, SUBMITTER_POLICY).add.push(documentedStatement);
    out.push(
      finding('submitter-catalogue', id, role.arn, 'fail', refused.map(([r, d]) => `${r}: ${d.reason}`).join('; '), {
        problem: `${role.arn} may not add steps to ${id} with ${refused.map(([r]) => r).join(', ')}: the gateway cannot submit as ${refused.length === 1 ? 'that role' : 'those roles'}`,
        fixes: identityFixes(role.arn, compiled, edits, why),
      }),
    );
  }

  const probes = outsideProbes(ctx.config.partition, ctx.config.account, ctx.config.runtimeRoles);
  const leaked = probes.map((r) => [r, decide(r)] as const).filter(([, d]) => d.allowed);
  if (!leaked.length) {
    out.push(finding('submitter-exactly', id, role.arn, 'pass', `AddJobFlowSteps denied with each of ${probes.length} roles outside the catalogue (e.g. ${probes[0]}: ${decide(probes[0]!).reason})`));
    return out;
  }
  const allowing = uniqueRefs(leaked.flatMap(([, d]) => d.allowedBy));
  const edits: Edits = new Map();
  removeRefs(edits, allowing);
  edit(edits, SUBMITTER_POLICY).add.push(documentedStatement);
  out.push(
    finding('submitter-exactly', id, role.arn, 'fail', leaked.map(([r, d]) => `${r}: ${d.reason}`).join('; '), {
      problem: `${role.arn} may add steps to ${id} with roles outside the catalogue, e.g. ${leaked[0]![0]} (allowed by ${allowing.map(describeStatement).join(', ')}): IAM no longer limits the gateway to the catalogue`,
      fixes: identityFixes(role.arn, compiled, edits, why),
    }),
  );
  return out;
}
