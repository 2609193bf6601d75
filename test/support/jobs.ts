/**
 * Job records as JobService writes them, for tests that fill a table without submitting (hundreds of jobs of
 * other callers, with chosen owners, clusters and runtime roles). No SDK here: unit and integration tests share it.
 */
import { newJobId } from '../../src/jobs/job-id';
import type { Job } from '../../src/jobs/model';
import { parseJobRequest } from '../../src/jobs/request';
import { resolvePrincipal } from '../../src/authz/arn';
import { submitBody } from './config';

export interface JobRecordFields {
  at: Date;
  /** The submitting session or principal ARN; the owner is its principal. */
  callerArn: string;
  clusterId: string;
  executionRoleArn: string;
}

/** An ACCEPTED job created at `at`, with its audit head as if its DECISION were event 0. */
export function jobRecord({ at, callerArn, clusterId, executionRoleArn }: JobRecordFields): Job {
  const createdAt = at.toISOString();
  const jobId = newJobId(at);
  const principalArn = resolvePrincipal(callerArn)?.principalArn;
  if (!principalArn) throw new Error(`not a principal: ${callerArn}`);
  const request = parseJobRequest(submitBody({ clusterId, executionRoleArn, name: `planted ${createdAt}` }));
  return {
    jobId, status: 'ACCEPTED', version: 1, createdAt, updatedAt: createdAt, listKey: `${createdAt}#${jobId}`,
    actor: { principalArn, callerArn }, principalArn, clusterId, executionRoleArn, name: request.name, stepType: request.step.type, request,
    requestHash: 'r'.repeat(64), argsHash: 'a'.repeat(64), decision: { result: 'Allowed', reason: 'planted' },
    submitAttempts: 0, auditSeq: 0, auditHash: 'h'.repeat(64),
  };
}

/** `count` jobs one second apart from `start` (so the last is the newest), each from `fields(i)`. */
export function jobRecords(start: Date, count: number, fields: (i: number) => Omit<JobRecordFields, 'at'>): Job[] {
  return Array.from({ length: count }, (_, i) => jobRecord({ at: new Date(start.getTime() + i * 1000), ...fields(i) }));
}
