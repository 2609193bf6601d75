/**
 * EMR's "EMR Step Status Change" event of a step's new state, as EMR puts it on the default bus: detail
 * {severity, actionOnFailure, stepId, name, clusterId, state, message}. The message follows EMR's wording.
 */
import type { ServiceEvent } from '../events';
import type { LocalStep } from './model';

/** EMR marks the changes that need attention WARN, the others INFO. */
const WARN_STATES = new Set(['FAILED', 'CANCELLED', 'INTERRUPTED']);

const at = (ms: number | undefined): string => new Date(ms ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, ' UTC').replace('T', ' ');

function messageOf(step: Readonly<LocalStep>, clusterName: string): string {
  const subject = `Step ${step.id} (${step.name}) in Amazon EMR cluster ${step.clusterId} (${clusterName})`;
  switch (step.state) {
    case 'PENDING':
      return `${subject} was added at ${at(step.created)} and is pending.`;
    case 'RUNNING':
      return `${subject} started running at ${at(step.started)}.`;
    case 'COMPLETED':
      return `${subject} completed execution at ${at(step.ended)}. The step started running at ${at(step.started)} and took ${Math.round(((step.ended ?? 0) - (step.started ?? 0)) / 60_000)} minutes to complete.`;
    case 'FAILED':
      return `${subject} failed at ${at(step.ended)}.`;
    case 'CANCEL_PENDING':
      return `${subject} is being cancelled.`;
    case 'CANCELLED':
      return `${subject} was cancelled at ${at(step.ended)}.`;
    default:
      return `${subject} was interrupted at ${at(step.ended)}.`;
  }
}

export function stepStatusChangeEvent(step: Readonly<LocalStep>, clusterName: string): ServiceEvent {
  return {
    source: 'aws.emr',
    detailType: 'EMR Step Status Change',
    resources: [],
    detail: {
      severity: WARN_STATES.has(step.state) ? 'WARN' : 'INFO',
      actionOnFailure: step.actionOnFailure,
      stepId: step.id,
      name: step.name,
      clusterId: step.clusterId,
      state: step.state,
      message: messageOf(step, clusterName),
    },
  };
}

/** The gateway's rule for these events (serverless.yml's EmrStepStatusRule): the configured clusters' steps. */
export function stepStatusRulePattern(clusterIds: readonly string[]): Record<string, unknown> {
  return { source: ['aws.emr'], 'detail-type': ['EMR Step Status Change'], detail: { clusterId: [...clusterIds] } };
}
