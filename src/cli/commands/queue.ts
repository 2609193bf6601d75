/**
 * `queue --cluster ID [--output table|json]`: GET /queues, a cluster's admission: its capacity, the active and queued
 * jobs of each principal group, and the queue in the order it is expected to start (ids only of your own jobs).
 */
import { parseArgs } from 'node:util';
import type { QueueResponse } from '../../client';
import type { CliEnvironment } from '../../config/env';
import { connect, connectionOptions, withApiErrors } from '../connection';
import { json, table, type Io } from '../output';
import { EXIT, UsageError } from '../usage';

export async function queue(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { ...connectionOptions, cluster: { type: 'string' } } });
  if (values.cluster === undefined || values.cluster === '') throw new UsageError('--cluster ID is required: the cluster whose queue to show');
  const { client, output } = connect(values, env);
  const cluster = values.cluster;
  return withApiErrors(io, async () => {
    const view = await client.queue(cluster);
    io.out(output === 'json' ? json(view) : toTable(view));
    return EXIT.ok;
  });
}

const limit = (n: number | undefined) => (n === undefined ? '-' : String(n));

function toTable(view: QueueResponse): string {
  const lines = [`${view.clusterId}: ${view.active} of ${view.maxActiveJobs} active, ${view.queued} of ${view.maxQueuedJobs} queued`];
  if (view.groups.length) lines.push('', table(['GROUP', 'ACTIVE', 'MAX-ACTIVE', 'QUEUED', 'MAX-QUEUED'], view.groups.map((g) => [g.name, String(g.active), limit(g.maxActiveJobs), String(g.queued), limit(g.maxQueuedJobs)])));
  lines.push('');
  if (!view.entries.length) lines.push('nobody waits');
  // Others' jobs are places, not ids: "-".
  else lines.push(table(['POSITION', 'GROUP', 'PRIORITY', 'QUEUED-AT', 'JOB'], view.entries.map((e) => [String(e.position), e.group, String(e.priority), e.queuedAt, e.jobId ?? '-'])));
  return lines.join('\n');
}
