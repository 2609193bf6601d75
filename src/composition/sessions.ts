/** The session service (the API's POST /sessions and its reads): the session store, EMR's session credentials, the digests. */
import type { AwsClients } from '../adapters/clients';
import { DynamoSessionStore } from '../adapters/dynamodb/session-store';
import { SdkEmrSessions, sessionClientFactory } from '../adapters/emr/emr-sessions';
import { emrClient } from '../adapters/sdk-clients/emr';
import type { DigestVerifier } from '../audit/digester';
import { ConfigError } from '../errors';
import { SessionService } from '../sessions/service';
import { clusterAccess } from './cluster-access';
import { lambdaCore, type Core } from './core';
import { lambdaDigests } from './digests';
import { policyEngine } from './service';
import { lambdaSts } from './tasks';

export function createSessions(core: Core, { emr, sts }: Pick<AwsClients, 'emr' | 'sts'>, digests: DigestVerifier): SessionService {
  const { env, target, config, dynamodb, audit, sealer } = core;
  if (config.clusters.some((c) => c.propagateSourceIdentity) && !env.sessionRoleArn) {
    throw new ConfigError([{ file: 'environment', path: 'SESSION_ROLE_ARN', message: 'is required by the API: a cluster propagates source identity' }]);
  }
  return new SessionService({
    config,
    engine: policyEngine(core),
    sessions: new DynamoSessionStore(dynamodb, env.jobsTable),
    audit,
    sealer,
    digests,
    emr: new SdkEmrSessions(emr, sts, config.clusters, env.sessionRoleArn, sessionClientFactory(target), clusterAccess(core, sts)),
  });
}

let sessions: SessionService | undefined;

export const lambdaSessions = (): SessionService =>
  (sessions ??= createSessions(lambdaCore(), { emr: emrClient(lambdaCore().target), sts: lambdaSts() }, lambdaDigests().verifier));
