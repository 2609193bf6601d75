/**
 * How `emr-gateway doctor` gets into the account of a cluster of another account: with credentials given for that
 * account (--account-profile), or by assuming the cluster's access role with its ExternalId from doctor's own
 * credentials, as the gateway does (which then tests the trust itself). A refusal is a fact for the checks, with the
 * principal doctor asked as.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { ClusterConfig } from '../../config/schema';
import type { AccountAccess } from '../../doctor/gather';
import { errorName } from '../aws-errors';
import { doctorClients, type AwsTarget } from '../clients';
import { SdkClusterReader } from '../emr/cluster-reader';
import { SdkIamReader } from './role-reader';

export async function reachAccount(sts: STSClient, target: Omit<AwsTarget, 'credentials'>, cluster: ClusterConfig, given?: AwsCredentialIdentityProvider): Promise<AccountAccess> {
  const readersWith = (credentials: AwsCredentialIdentityProvider | Awaited<ReturnType<AwsCredentialIdentityProvider>>) => {
    const clients = doctorClients({ ...target, credentials: typeof credentials === 'function' ? credentials : () => Promise.resolve(credentials) });
    return { emr: new SdkClusterReader(clients.emr), iam: new SdkIamReader(clients.iam, clients.sts) };
  };
  if (given) return { ok: true, readers: readersWith(given) };
  const role = cluster.accessRole!;
  let caller: string | undefined;
  try {
    caller = (await sts.send(new GetCallerIdentityCommand({}))).Arn;
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'emr-gateway-doctor', ...(role.externalId ? { ExternalId: role.externalId } : {}), DurationSeconds: 900 }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw Object.assign(new Error('AssumeRole returned no credentials'), { name: 'EmptyResponse' });
    return { ok: true, readers: readersWith({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken }), ...(caller ? { assumedAs: caller } : {}) };
  } catch (error) {
    const code = errorName(error);
    const kind = code === 'AccessDenied' || code === 'AccessDeniedException' ? 'denied' : 'failed';
    return { ok: false, failure: { kind, operation: 'sts:AssumeRole', resource: role.arn, code, message: error instanceof Error ? error.message : String(error) }, ...(caller ? { caller } : {}) };
  }
}
