/**
 * Reads, through the ports, every fact the runtime-role checks need for the chosen clusters: each cluster
 * (DescribeCluster, its primary nodes), its security configuration, its instance profile and that profile's role
 * with its policies; each catalogue role with its trust policy; the gateway's submitter role(s) with their
 * policies. Each resource is read once however many clusters share it, a few reads at a time.
 */
import type { ClusterConfig } from '../config/schema';
import { eachLimited } from '../util/concurrency';
import type { ClusterFacts, ClusterReader, IamReader, InstanceProfileFacts, Read, RoleFacts, SecurityConfigurationFacts } from './facts';

/** What of the gateway's configuration the doctor checks against. */
export interface DoctorConfig {
  partition: string;
  account: string;
  region: string;
  clusters: readonly ClusterConfig[];
  /** The catalogue: the runtime roles the gateway may pass. */
  runtimeRoles: readonly string[];
}

/** The facts of one configured cluster. */
export interface ClusterEvidence {
  config: ClusterConfig;
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
}

export interface GatherRequest {
  config: DoctorConfig;
  /** The clusters to check (ids of the configuration). */
  clusterIds: readonly string[];
  submitterRoles: readonly string[];
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

export async function gatherFacts(readers: { emr: ClusterReader; iam: IamReader }, request: GatherRequest): Promise<DoctorFacts> {
  const progress = request.onProgress ?? (() => undefined);
  const role = once((arn: string) => {
    progress(`reading role ${arn}`);
    return readers.iam.role(arn);
  });
  const securityConfiguration = once((name: string) => {
    progress(`reading security configuration ${name}`);
    return readers.emr.describeSecurityConfiguration(name);
  });
  const instanceProfile = once((name: string) => {
    progress(`reading instance profile ${name}`);
    return readers.iam.instanceProfile(name);
  });

  const callerAccount = await readers.iam.callerAccount();
  const chosen = request.config.clusters.filter((c) => request.clusterIds.includes(c.id));
  const clusters: ClusterEvidence[] = new Array<ClusterEvidence>(chosen.length);
  await eachLimited(chosen, PARALLEL_READS, async (config, index) => {
    progress(`reading cluster ${config.id}`);
    const cluster = await readers.emr.describeCluster(config.id);
    const evidence: ClusterEvidence = { config, cluster };
    if (cluster.ok && cluster.value.securityConfiguration) evidence.securityConfiguration = await securityConfiguration(cluster.value.securityConfiguration);
    if (config.runtimeRoles && cluster.ok && cluster.value.instanceProfile) {
      const profile = await instanceProfile(cluster.value.instanceProfile);
      evidence.instanceProfile = profile;
      const roleArn = profile.ok ? profile.value.roleArns[0] : undefined;
      if (roleArn) evidence.instanceProfileRole = await role(roleArn);
    }
    clusters[index] = evidence;
  });

  const catalogue = new Map<string, Read<RoleFacts>>();
  if (chosen.some((c) => c.runtimeRoles)) {
    await eachLimited(request.config.runtimeRoles, PARALLEL_READS, async (arn) => {
      catalogue.set(arn, await role(arn));
    });
  }
  const submitters: DoctorFacts['submitters'] = [];
  for (const requested of request.submitterRoles) submitters.push({ requested, role: await role(requested) });
  return { callerAccount, clusters, catalogue: new Map(request.config.runtimeRoles.filter((a) => catalogue.has(a)).map((a) => [a, catalogue.get(a)!])), submitters };
}
