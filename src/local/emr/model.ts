/** The local EMR's records: what its journal stores and its API describes (EMR's own field meanings). */

export const STEP_STATES = ['PENDING', 'CANCEL_PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED', 'INTERRUPTED'] as const;
export type StepState = (typeof STEP_STATES)[number];
/** EMR's ClusterState values (the local clusters take only some of them). */
export const CLUSTER_STATES = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'] as const;

export interface HadoopJarStep {
  Jar: string;
  MainClass?: string;
  Args?: string[];
  Properties?: { Key?: string; Value?: string }[];
}

export interface LocalStep {
  id: string;
  clusterId: string;
  name: string;
  actionOnFailure: string;
  jar: HadoopJarStep;
  executionRoleArn?: string;
  sourceIdentity?: string;
  state: StepState;
  created: number;
  started?: number;
  ended?: number;
  failure?: { Reason?: string; Message?: string; LogFile?: string };
  stateChangeReason?: { Code?: string; Message?: string };
  pid?: number;
}

export interface LocalCluster {
  id: string;
  name: string;
  securityConfiguration?: string;
  stepConcurrencyLevel: number;
  /** Absent from clusters journaled before these were kept: then LOCAL_CLUSTER_DEFAULTS (config/schema.ts). */
  releaseLabel?: string;
  applications?: string[];
  /** The instance profile (EC2's) the nodes run with: its role is what the steps' node session is. */
  instanceProfile?: string;
  /** 3 for a multi-primary (high-availability) cluster. */
  primaryNodes?: number;
  state: 'WAITING' | 'RUNNING' | 'TERMINATED' | 'TERMINATED_WITH_ERRORS';
  created: number;
}

export interface SecurityConfiguration {
  name: string;
  json: string;
  created: number;
}
