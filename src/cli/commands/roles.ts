/**
 * `roles`: the runtime roles a caller may use. With --config, offline: any principal, from the file, with each
 * role's reason. Otherwise the gateway answers for the signed-in caller (GET /roles).
 */
import { parseArgs } from 'node:util';
import { rolesFor } from '../../authz/roles';
import type { CliEnvironment } from '../../config/env';
import { DEFAULT_ACTION_ON_FAILURE, runtimeRolesProblem, STEP_TYPES } from '../../jobs/request';
import { connect, connectionOptions, withApiErrors } from '../connection';
import { clusterResource, loadConfigArg, offlineOptions, principalArg } from '../offline';
import { json, outputFormat, table, type Io } from '../output';
import { EXIT, required } from '../usage';

export function roles(args: string[], io: Io, env: CliEnvironment): number | Promise<number> {
  return args.includes('--config') || args.some((a) => a.startsWith('--config=')) ? offlineRoles(args, io) : onlineRoles(args, io, env);
}

async function onlineRoles(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { ...connectionOptions, cluster: { type: 'string' } } });
  const { client, output } = connect(values, env);
  return withApiErrors(io, async () => {
    const roles = await client.roles(values.cluster);
    if (output === 'json') io.out(json(roles));
    else {
      const rows = roles.clusters.flatMap((c) => c.roles.map((r) => [c.clusterId, r.roleArn, r.stepTypes.join(',')]));
      if (rows.length) io.out(table(['CLUSTER', 'ROLE', 'STEP TYPES'], rows));
      // Messages for people, on stderr: a cluster where no role can work, and why; or that none is usable at all.
      for (const c of roles.clusters) if (c.unavailable) io.err(`${c.clusterId}: no runtime role offered: ${c.unavailable}`);
      if (!rows.length && roles.clusters.some((c) => !c.unavailable)) io.err('no runtime role is usable by this caller');
    }
    return EXIT.ok;
  });
}

function offlineRoles(args: string[], io: Io): number {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { ...offlineOptions, principal: { type: 'string' }, cluster: { type: 'string' }, all: { type: 'boolean', default: false } },
  });
  const output = outputFormat(values.output);
  const principal = principalArg(values.principal);
  const clusterId = required(values.cluster, '--cluster');
  const loaded = loadConfigArg(values.config);
  const resource = clusterResource(loaded, clusterId);
  const unavailable = runtimeRolesProblem(loaded.config.clusters.find((c) => c.id === clusterId)!);
  if (unavailable) {
    // No policy can make a runtime role work there: nothing to list, whatever the policies say.
    if (output === 'json') io.out(json([]));
    io.err(`${clusterId}: no runtime role offered: ${unavailable}`);
    return EXIT.ok;
  }
  const options = rolesFor(loaded.engine, {
    callerArn: principal,
    clusterArn: resource,
    catalogue: loaded.config.runtimeRoles,
    stepTypes: STEP_TYPES,
    actionOnFailure: DEFAULT_ACTION_ON_FAILURE,
  });
  const shown = values.all ? options : options.filter((o) => o.stepTypes.length);
  if (output === 'json') {
    io.out(json(shown.map((o) => ({ roleArn: o.roleArn, usable: o.stepTypes.length > 0, stepTypes: o.stepTypes, reason: o.decision.reason }))));
  } else if (!shown.length) {
    io.out(`${principal} may use none of the ${options.length} catalogued runtime roles on ${clusterId}.`);
  } else {
    io.out(table(['ROLE', 'STEP TYPES', 'WHY'], shown.map((o) => [o.roleArn, o.stepTypes.join(',') || '-', o.decision.reason])));
  }
  return EXIT.ok;
}
