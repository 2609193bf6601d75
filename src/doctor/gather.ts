/**
 * Reads, through the ports, every fact the runtime-role checks need for the chosen clusters: each cluster
 * (DescribeCluster, its primary nodes), its security configuration, its instance profile and that profile's role
 * with its policies; each catalogue role with its trust policy; the gateway's submitter role(s) with their
 * policies. Each resource is read once however many clusters share it, a few reads at a time.
 */
import type { ClusterConfig } from '../config/schema';
import { eachLimited } from '../util/concurrency';
import type { ClusterFacts, ClusterReader, IamReader, InstanceProfileFacts, Read, ReadFailure, RoleFacts, SecurityConfigurationFacts } from './facts';

/** What of the gateway's configuration the doctor checks against. */
export interface DoctorConfig {
  partition: string;
  account: string;
  region: string;
  clusters: readonly ClusterConfig[];
  /** The catalogue: the runtime roles the gateway may pass. */
  runtimeRoles: readonly string[];
}

/** The readers of one account. */
export interface AccountReaders {
  emr: ClusterReader;
  iam: IamReader;
}

/**
 * How doctor got into a cluster's account (a cluster of another account): by assuming its access role with the
 * ExternalId, as the gateway does (`assumedAs`: doctor's own principal), or with credentials given for the account.
 */
export type AccountAccess = { ok: true; readers: AccountReaders; assumedAs?: string } | { ok: false; failure: ReadFailure; caller?: string };

/** The facts of one configured cluster. */
export interface ClusterEvidence {
  config: ClusterConfig;
  /** For a cluster of another account: how doctor reached it, and its access role as that account's IAM has it. */
  access?: { account: AccountAccess; accessRole?: Read<RoleFacts> };
  cluster: Read<ClusterFacts>;
  /** Read when the cluster names one. */
  securityConfiguration?: Read<SecurityConfigurationFacts>;
  /** Read for a cluster the configuration says has runtime roles, when DescribeCluster names the profile. */
  instanceProfile?: Read<InstanceProfileFacts>;
  /** The profile's role, when it has one. */
  instanceProfileRole?: Read<RoleFacts>;
}

export interface DoctorFacts {
  /** The account doctor's credentials are in. */
  callerAccount: Read<string>;
  clusters: ClusterEvidence[];
  /** Each catalogue role, by its ARN as the configuration writes it (read when a runtime-role cluster is checked). */
  catalogue: ReadonlyMap<string, Read<RoleFacts>>;
  /** The gateway's role(s) that add the steps, as asked for (an ARN or a name). */
  submitters: { requested: string; role: Read<RoleFacts> }[];
  /** The gateway's roles (ARNs) that assume the access roles of clusters in other accounts: their trust must name them. */
  gatewayRoles?: readonly string[];
}

export interface GatherRequest {
  config: DoctorConfig;
  /** The clusters to check (ids of the configuration). */
  clusterIds: readonly string[];
  submitterRoles: readonly string[];
  gatewayRoles?: readonly string[];
  /** The readers of a cluster's other account (clusters[].account), or why there are none. */
  accountReaders?: (cluster: ClusterConfig) => Promise<AccountAccess>;
  /** Told what is being read, for people waiting on a slow account. */
  onProgress?: (message: string) => void;
}

const PARALLEL_READS = 4;

/** Memoizes one read per key: clusters that share an instance profile or role read it once. */
function once<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key) => {
    let pending = cache.get(key);
    if (!pending) {
      pending = read(key);
      cache.set(key, pending);
    }
    return pending;
  };
}

export async function gatherFacts(readers: AccountReaders, request: GatherRequest): Promise<DoctorFacts> {
  const progress = request.onProgress ?? (() => undefined);
  // One memo per account's readers: the same name may be a role of each account (EMR_EC2_DefaultRole).
  const memos = new Map<AccountReaders, ReturnType<typeof memosOf>>();
  const memosOf = (of: AccountReaders) => ({
    role: once((arn: string) => {
      progress(`reading role ${arn}`);
      return of.iam.role(arn);
    }),
    securityConfiguration: once((name: string) => {
      progress(`reading security configuration ${name}`);
      return of.emr.describeSecurityConfiguration(name);
    }),
    instanceProfile: once((name: string) => {
      progress(`reading instance profile ${name}`);
      return of.iam.instanceProfile(name);
    }),
  });
  const memo = (of: AccountReaders) => {
    let m = memos.get(of);
    if (!m) memos.set(of, (m = memosOf(of)));
    return m;
  };
  const { account } = request.config;
  const accounts = new Map<string, Promise<AccountAccess>>();
  const accessOf = (config: ClusterConfig): Promise<AccountAccess> => {
    const key = `${config.account ?? account}\n${config.accessRole?.arn ?? ''}`;
    const kept = accounts.get(key);
    if (kept) return kept;
    progress(`reaching account ${config.account ?? account} through ${config.accessRole?.arn ?? 'nothing'}`);
    const pending: Promise<AccountAccess> = request.accountReaders
      ? request.accountReaders(config)
      : Promise.resolve({ ok: false, failure: { kind: 'unreadable', operation: 'sts:AssumeRole', resource: config.accessRole?.arn ?? '', code: 'NoAccess', message: 'doctor has no way into the account' } });
    accounts.set(key, pending);
    return pending;
  };
  /** Readers by account, for the catalogue roles: the gateway's own, and those of every other account reached. */
  const byAccount = new Map<string, AccountReaders>([[account, readers]]);

  const callerAccount = await readers.iam.callerAccount();
  const chosen = request.config.clusters.filter((c) => request.clusterIds.includes(c.id));
  const clusters: ClusterEvidence[] = new Array<ClusterEvidence>(chosen.length);
  await eachLimited(chosen, PARALLEL_READS, async (config, index) => {
    let of = readers;
    let access: ClusterEvidence['access'];
    if (config.accessRole && (config.account ?? account) !== account) {
      const reached = await accessOf(config);
      if (!reached.ok) {
        clusters[index] = { config, cluster: { ok: false, failure: reached.failure }, access: { account: reached } };
        return;
      }
      of = reached.readers;
      byAccount.set(config.account!, of);
      access = { account: reached, accessRole: await memo(of).role(config.accessRole.arn) };
    }
    const m = memo(of);
    progress(`reading cluster ${config.id}`);
    const cluster = await of.emr.describeCluster(config.id);
    const evidence: ClusterEvidence = { config, cluster, ...(access ? { access } : {}) };
    if (cluster.ok && cluster.value.securityConfiguration) evidence.securityConfiguration = await m.securityConfiguration(cluster.value.securityConfiguration);
    if (config.runtimeRoles && cluster.ok && cluster.value.instanceProfile) {
      const profile = await m.instanceProfile(cluster.value.instanceProfile);
      evidence.instanceProfile = profile;
      const roleArn = profile.ok ? profile.value.roleArns[0] : undefined;
      if (roleArn) evidence.instanceProfileRole = await m.role(roleArn);
    }
    clusters[index] = evidence;
  });

  const catalogue = new Map<string, Read<RoleFacts>>();
  if (chosen.some((c) => c.runtimeRoles)) {
    await eachLimited(request.config.runtimeRoles, PARALLEL_READS, async (arn) => {
      // Each role in its own account's IAM, where doctor reached that account.
      catalogue.set(arn, await memo(byAccount.get(arn.split(':')[4] ?? '') ?? readers).role(arn));
    });
  }
  const submitters: DoctorFacts['submitters'] = [];
  for (const requested of request.submitterRoles) submitters.push({ requested, role: await memo(readers).role(requested) });
  return { callerAccount, clusters, catalogue: new Map(request.config.runtimeRoles.filter((a) => catalogue.has(a)).map((a) => [a, catalogue.get(a)!])), submitters, ...(request.gatewayRoles ? { gatewayRoles: request.gatewayRoles } : {}) };
}
