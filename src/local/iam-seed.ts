/**
 * What the local IAM holds at start for the configuration: the documentation's runtime-role setup
 * (authz/runtime-role-setup.ts: the clusters' instance profile role with AllowRuntimeRoleUsage, each catalogue role
 * with its trust policy and the security configurations' ExternalIds), and the gateway's own two roles as the
 * deployment has them (serverless.yml): the role its functions run as, which may assume the submitter role with
 * a source identity, and the submitter role, which may add steps with catalogue roles only; and the sessions role,
 * which may only get interactive-session credentials with catalogue roles (POST /sessions).
 *
 * A user's changes are kept: each seeded document is recorded with what it was; at the next start a document
 * is written only where it is missing and was never seeded, or still reads as seeded (then the configuration
 * may have changed it). One the user changed or deleted (`aws iam ...`) stays as the user left it.
 */
import {
  ACCESS_ROLE_POLICY,
  accessRolePolicy,
  accessRoleTrustPolicy,
  ASSUME_ACCESS_ROLES_POLICY,
  assumeAccessRoleStatements,
  instanceProfileRoleName,
  instanceProfileTrustPolicy,
  RUNTIME_ROLE_USAGE_POLICY,
  runtimeRoleTrustPolicy,
  runtimeRoleUsagePolicy,
  sessionCredentialsStatement,
  SESSIONS_POLICY,
  SUBMITTER_POLICY,
  stepLogPlaces,
  submitterAddStepsStatement,
  type PolicyDocument,
  type RuntimeRoleGrant,
} from '../authz/runtime-role-setup';
import type { GatewayConfig } from '../config/validate';
import { clusterArn, configuredClusterArn } from '../identifiers';
import { logger } from '../util/logger';
import type { LocalIam } from './iam';

/** The role the gateway's functions run as locally (in AWS each function has a role of its own). */
export const LOCAL_GATEWAY_ROLE = 'emr-gateway-functions';
/** The session of it the stack's own credentials stand for. */
export const LOCAL_GATEWAY_SESSION = 'local-stack';
/** The role the gateway assumes, with the caller's source identity, to add steps (SUBMITTER_ROLE_ARN). */
export const LOCAL_SUBMITTER_ROLE = 'emr-gateway-submitter';

/** The role the gateway assumes, with the caller's source identity, for interactive-session credentials (SESSION_ROLE_ARN). */
export const LOCAL_SESSIONS_ROLE = 'emr-gateway-sessions';

const STS_SUBMIT_ACTIONS = ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'];
const STS_SESSION_ACTIONS = ['sts:AssumeRole', 'sts:SetSourceIdentity'];

interface SeededRole {
  name: string;
  path: string;
  trust: PolicyDocument;
  description: string;
  inline: Record<string, PolicyDocument>;
}

/**
 * Seeds `iam` for `config`. `externalIdOf` gives a cluster's ExternalId (from its security configuration), or
 * undefined for a cluster without runtime roles, which takes no part in the setup.
 */
export function seedLocalIam(iam: LocalIam, config: GatewayConfig, externalIdOf: (clusterId: string) => string | undefined, accounts: ReadonlyMap<string, LocalIam> = new Map()): void {
  const seed = (target: LocalIam, roles: SeededRole[]) => {
    for (const role of roles) {
      try {
        seedRole(target, role);
      } catch (error) {
        // e.g. a trust policy naming a role the user deleted: IAM refuses it; the rest is seeded all the same.
        logger.warn(`local IAM: could not seed role ${role.name}`, { error });
      }
    }
    seedInstanceProfiles(target, config);
  };
  seed(iam, seededRoles(config, externalIdOf));
  // A second account's clusters: its own instance profile and runtime roles, and the access role the gateway assumes there.
  for (const [account, other] of accounts) seed(other, [...runtimeRoleSetup(config, account, externalIdOf), ...accessRoles(config, account)]);
}

/**
 * Each cluster's instance profile, holding the role of its name (as `aws emr create-default-roles` makes
 * EMR_EC2_DefaultRole): the local EMR's nodes get that role's credentials. A profile the user deleted, or whose
 * role the user removed, stays so.
 */
function seedInstanceProfiles(iam: LocalIam, config: GatewayConfig): void {
  for (const name of new Set(config.clusters.filter((c) => (c.account ?? config.account) === iam.account).map((c) => instanceProfileRoleName(c)))) {
    const key = `instance-profile/${name}`;
    if (iam.seededDocument(key) !== undefined || iam.findInstanceProfile(name)) continue;
    try {
      iam.createInstanceProfile({ name });
      if (iam.findRoleByName(name)) iam.addRoleToInstanceProfile(name, name);
      iam.markSeeded(key, name);
    } catch (error) {
      logger.warn(`local IAM: could not seed instance profile ${name}`, { error });
    }
  }
}

/** The documentation's runtime-role setup in `account`: its clusters' instance profile roles and its catalogue roles. */
function runtimeRoleSetup(config: GatewayConfig, account: string, externalIdOf: (clusterId: string) => string | undefined): SeededRole[] {
  const { partition } = config;
  const roleArn = (name: string) => `arn:${partition}:iam::${account}:role/${name}`;
  // The catalogue roles this account holds (a role of another account is that account's to set up).
  const catalogue = config.runtimeRoles.filter((arn) => arn.startsWith(`arn:${partition}:iam::${account}:role/`));

  // Every cluster's nodes run as its instance profile role (the steps of a cluster without runtime roles do too);
  // only the runtime-role clusters' roles take part in the runtime-role setup.
  const byProfile = new Map<string, { externalIds: string[]; sourceIdentity: string[] }>();
  for (const cluster of config.clusters.filter((c) => (c.account ?? config.account) === account)) {
    const entry = byProfile.get(instanceProfileRoleName(cluster)) ?? { externalIds: [], sourceIdentity: [] };
    byProfile.set(instanceProfileRoleName(cluster), entry);
    const externalId = cluster.runtimeRoles ? externalIdOf(cluster.id) : undefined;
    if (externalId === undefined) continue;
    entry.externalIds.push(externalId);
    if (cluster.propagateSourceIdentity) entry.sourceIdentity.push(externalId);
  }
  const grants: RuntimeRoleGrant[] = [...byProfile]
    .filter(([, e]) => e.externalIds.length > 0)
    .map(([name, e]) => ({ instanceProfileRoleArn: roleArn(name), externalIds: e.externalIds, sourceIdentityExternalIds: e.sourceIdentity }));

  const profiles = [...byProfile].map(([name, e]): SeededRole => ({
    name,
    path: '/',
    trust: instanceProfileTrustPolicy(),
    description: 'The EMR clusters\' instance profile role (seeded by the local stack)',
    inline: catalogue.length && e.externalIds.length ? { [RUNTIME_ROLE_USAGE_POLICY]: runtimeRoleUsagePolicy(catalogue, e.sourceIdentity.length > 0) } : {},
  }));
  const runtime: SeededRole[] = grants.length
    ? catalogue.map((arn) => {
        const resource = arn.slice(arn.indexOf(':role/') + ':role'.length);
        const name = resource.slice(resource.lastIndexOf('/') + 1);
        return { name, path: resource.slice(0, resource.lastIndexOf('/') + 1), trust: runtimeRoleTrustPolicy(grants), description: 'An EMR runtime role of the catalogue (seeded by the local stack)', inline: {} };
      })
    : [];
  // In this order: a trust policy may name only roles that exist.
  return [...profiles, ...runtime];
}

/** The access roles of `account`'s clusters, as their owners would set them up for the gateway (what doctor checks). */
function accessRoles(config: GatewayConfig, account: string): SeededRole[] {
  const gatewayRole = `arn:${config.partition}:iam::${config.account}:role/${LOCAL_GATEWAY_ROLE}`;
  const byRole = new Map<string, { externalId?: string; propagate: boolean; clusterArns: string[]; clusters: GatewayConfig['clusters'][number][] }>();
  for (const cluster of config.clusters) {
    if (!cluster.accessRole || (cluster.account ?? config.account) !== account) continue;
    const entry = byRole.get(cluster.accessRole.arn) ?? { ...(cluster.accessRole.externalId ? { externalId: cluster.accessRole.externalId } : {}), propagate: false, clusterArns: [], clusters: [] };
    entry.propagate ||= cluster.propagateSourceIdentity;
    entry.clusterArns.push(configuredClusterArn(config, cluster.id));
    entry.clusters.push(cluster);
    byRole.set(cluster.accessRole.arn, entry);
  }
  return [...byRole].map(([arn, e]) => {
    const resource = arn.slice(arn.indexOf(':role/') + ':role'.length);
    return {
      name: resource.slice(resource.lastIndexOf('/') + 1),
      path: resource.slice(0, resource.lastIndexOf('/') + 1),
      trust: accessRoleTrustPolicy(gatewayRole, e.externalId, e.propagate),
      description: "Assumed by the emr-step-gateway of another account for its calls on this account's clusters (seeded by the local stack)",
      inline: { [ACCESS_ROLE_POLICY]: accessRolePolicy(e.clusterArns, config.runtimeRoles, { partition: config.partition, places: stepLogPlaces(e.clusters) }) },
    };
  });
}

function seededRoles(config: GatewayConfig, externalIdOf: (clusterId: string) => string | undefined): SeededRole[] {
  const { account, partition } = config;
  const roleArn = (name: string) => `arn:${partition}:iam::${account}:role/${name}`;
  const submitter = roleArn(LOCAL_SUBMITTER_ROLE);
  const sessions = roleArn(LOCAL_SESSIONS_ROLE);
  const clusterArns = config.clusters.filter((c) => !c.accessRole).map((c) => clusterArn(partition, config.region, account, c.id));
  const addSteps = submitterAddStepsStatement(clusterArns, config.runtimeRoles);
  const sessionCredentials = sessionCredentialsStatement(clusterArns, config.runtimeRoles);
  const crossAccount = assumeAccessRoleStatements(config.clusters);
  const gateway: SeededRole[] = [
    {
      name: LOCAL_GATEWAY_ROLE,
      path: '/',
      trust: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
      description: "The gateway's functions (seeded by the local stack; the stack's own credentials are a session of it)",
      inline: {
        'submit-step': { Version: '2012-10-17', Statement: [addSteps, { Effect: 'Allow', Action: STS_SUBMIT_ACTIONS, Resource: submitter }] },
        'session-credentials': { Version: '2012-10-17', Statement: [sessionCredentials, { Effect: 'Allow', Action: STS_SESSION_ACTIONS, Resource: sessions }] },
        ...(crossAccount.length ? { [ASSUME_ACCESS_ROLES_POLICY]: { Version: '2012-10-17', Statement: crossAccount } } : {}),
      },
    },
    {
      name: LOCAL_SUBMITTER_ROLE,
      path: '/',
      trust: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: roleArn(LOCAL_GATEWAY_ROLE) }, Action: STS_SUBMIT_ACTIONS }] },
      description: 'Assumed by the gateway, with the caller as SourceIdentity, to add EMR steps (seeded by the local stack)',
      inline: { [SUBMITTER_POLICY]: { Version: '2012-10-17', Statement: [addSteps] } },
    },
    {
      name: LOCAL_SESSIONS_ROLE,
      path: '/',
      trust: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: roleArn(LOCAL_GATEWAY_ROLE) }, Action: STS_SESSION_ACTIONS }] },
      description: 'Assumed by the gateway, with the caller as SourceIdentity, for EMR interactive-session credentials (seeded by the local stack)',
      inline: { [SESSIONS_POLICY]: { Version: '2012-10-17', Statement: [sessionCredentials] } },
    },
  ];
  // In this order: a trust policy may name only roles that exist.
  return [...runtimeRoleSetup(config, account, externalIdOf), ...gateway];
}

function seedRole(iam: LocalIam, seed: SeededRole): void {
  const trustKey = `role/${seed.name}/trust`;
  const trust = JSON.stringify(seed.trust);
  const role = iam.findRoleByName(seed.name);
  if (!role) {
    if (iam.seededDocument(trustKey) !== undefined) return; // the user deleted it
    iam.createRole({ name: seed.name, path: seed.path, trustPolicy: trust, description: seed.description });
    iam.markSeeded(trustKey, trust);
  } else if (role.trustPolicy === iam.seededDocument(trustKey) && role.trustPolicy !== trust) {
    iam.updateAssumeRolePolicy(seed.name, trust);
    iam.markSeeded(trustKey, trust);
  }
  for (const [policyName, document] of Object.entries(seed.inline)) {
    const key = `role/${seed.name}/inline/${policyName}`;
    const desired = JSON.stringify(document);
    const current = iam.getRole(seed.name).inlinePolicies[policyName];
    const seeded = iam.seededDocument(key);
    if (current === undefined ? seeded === undefined : current === seeded && current !== desired) {
      iam.putRolePolicy(seed.name, policyName, desired);
      iam.markSeeded(key, desired);
    }
  }
}
