/** The cross-account access of a process: one per core, whichever of its parts (tasks, sessions, logs and UI links) asks. */
import type { AwsClients } from '../adapters/clients';
import { ClusterAccess } from '../adapters/emr/cluster-access';
import type { Core } from './core';

const kept = new WeakMap<Core, ClusterAccess>();

/**
 * ClusterAccess keeps the access roles' credentials per (role, source identity): shared by every part of a process (the
 * API's cancels, sessions, step logs and UI links), a cluster of another account costs one AssumeRole per person and
 * hour in it, not one per part.
 */
export function clusterAccess(core: Core, sts: AwsClients['sts']): ClusterAccess {
  let access = kept.get(core);
  if (!access) kept.set(core, (access = new ClusterAccess(sts, core.config.clusters)));
  return access;
}
