/**
 * An interactive session (POST /sessions): the decision on EMR GetClusterSessionCredentials for a caller, a
 * cluster and a runtime role, and what EMR issued. The record never holds the password: it is in the one answer
 * to POST /sessions, and nowhere else (not in the table, not in the audit trail, not in a log).
 */
import type { DecisionResult } from '../authz/engine';
import type { Actor } from '../jobs/model';

/**
 * ISSUED: EMR issued the credentials. DENIED: the policy refused (nothing asked of EMR). FAILED: allowed, but EMR
 * refused or failed (its error is recorded). None of them is a job state: the jobs table's unfinished-job scans
 * (the reconciler's) never take a session for a job.
 */
export const SESSION_STATUSES = ['ISSUED', 'DENIED', 'FAILED'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** The cluster's endpoints a notebook connects to, from EMR DescribeCluster. */
export interface ClusterEndpoints {
  /** DescribeCluster's MasterPublicDnsName (a private name in a private subnet). */
  masterPublicDnsName: string;
  /** Livy's REST endpoint on the primary node (sparkmagic's `url`), where the cluster has Livy. */
  livy?: string;
}

/** Livy's port on EMR's primary node (EMR's application ports). */
export const LIVY_PORT = 8998;

/** Bounds of POST /sessions durationSeconds (those of STS's DurationSeconds for a role). */
export const SESSION_DURATION = { minSeconds: 900, maxSeconds: 43_200 } as const;

export interface Session {
  sessionId: string;
  status: SessionStatus;
  createdAt: string;
  /** `${createdAt}#${sessionId}`: the sort key of the owner's listing, newest first. */
  sessionKey: string;
  actor: Actor;
  /** The owner (aws:PrincipalArn): the listing's partition. */
  principalArn: string;
  clusterId: string;
  executionRoleArn: string;
  /** The life the caller asked for; EMR sets the credentials' expiry (expiresAt). */
  durationSeconds?: number;
  decision: { result: DecisionResult; reason: string };
  /** ISSUED: the credentials' user name (not a secret: the cluster's applications log it) and EMR's ExpiresAt. */
  username?: string;
  expiresAt?: string;
  endpoints?: ClusterEndpoints;
  /** FAILED: what EMR (or the way to it) answered. */
  failure?: { error: string; message: string };
  /** The head of the session's audit chain (its last event). */
  auditSeq: number;
  auditHash: string;
}

export const sessionKeyOf = (createdAt: string, sessionId: string): string => `${createdAt}#${sessionId}`;
