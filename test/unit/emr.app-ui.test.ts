/** EMR's application-UI links over the SDK (src/adapters/emr/app-ui.ts), the client mocked: what is asked, and how. */
import { CreatePersistentAppUICommand, EMRClient, EMRServiceException, GetOnClusterAppUIPresignedURLCommand, GetPersistentAppUIPresignedURLCommand } from '@aws-sdk/client-emr';
import { mockClient } from 'aws-sdk-client-mock';
import { SdkAppUiLinks } from '../../src/adapters/emr/app-ui';
import { ClusterClients } from '../../src/adapters/emr/cluster-access';
import { EmrRejectedError, TransientError } from '../../src/errors';

const emr = mockClient(EMRClient);
afterEach(() => emr.reset());
afterAll(() => emr.restore());

const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const CLUSTER_ARN = 'arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/j-2AXXXXXXGAPLF';
const failure = (name: string, status: number) => new EMRServiceException({ name, message: `${name}!`, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });

describe('SdkAppUiLinks', () => {
  const links = new SdkAppUiLinks(new ClusterClients(new EMRClient({ region: 'us-east-1' }), () => new EMRClient({ region: 'us-east-1' })));

  it("asks for the cluster's Spark History Server under the job's role, and for the persistent UI of the cluster, then its link", async () => {
    emr.on(GetOnClusterAppUIPresignedURLCommand).resolves({ PresignedURLReady: true, PresignedURL: 'https://on-cluster' });
    emr.on(CreatePersistentAppUICommand).resolves({ PersistentAppUIId: 'p-1' });
    emr.on(GetPersistentAppUIPresignedURLCommand).resolves({ PresignedURLReady: false });
    await expect(links.onCluster({ clusterId: 'j-2AXXXXXXGAPLF', executionRoleArn: ROLE })).resolves.toEqual({ ready: true, url: 'https://on-cluster' });
    await expect(links.persistent({ clusterId: 'j-2AXXXXXXGAPLF', clusterArn: CLUSTER_ARN, executionRoleArn: ROLE })).resolves.toEqual({ ready: false, persistentAppUiId: 'p-1' });
    expect(emr.commandCalls(GetOnClusterAppUIPresignedURLCommand)[0]!.args[0].input).toEqual({ ClusterId: 'j-2AXXXXXXGAPLF', OnClusterAppUIType: 'SparkHistoryServer', ExecutionRoleArn: ROLE });
    expect(emr.commandCalls(CreatePersistentAppUICommand)[0]!.args[0].input).toEqual({ TargetResourceArn: CLUSTER_ARN, ProfilerType: 'SHS' });
    expect(emr.commandCalls(GetPersistentAppUIPresignedURLCommand)[0]!.args[0].input).toEqual({ PersistentAppUIId: 'p-1', PersistentAppUIType: 'SHS', ExecutionRoleArn: ROLE });
  });

  it("EMR's refusal is EmrRejectedError with EMR's error; throttling or a 5xx is transient", async () => {
    emr.on(GetOnClusterAppUIPresignedURLCommand).rejects(failure('InvalidRequestException', 400));
    await expect(links.onCluster({ clusterId: 'j-1', executionRoleArn: ROLE })).rejects.toEqual(expect.objectContaining({ emrError: 'InvalidRequestException' }));
    await expect(links.onCluster({ clusterId: 'j-1', executionRoleArn: ROLE })).rejects.toBeInstanceOf(EmrRejectedError);
    emr.on(CreatePersistentAppUICommand).rejects(failure('InternalServerError', 500));
    await expect(links.persistent({ clusterId: 'j-2AXXXXXXGAPLF', clusterArn: CLUSTER_ARN, executionRoleArn: ROLE })).rejects.toBeInstanceOf(TransientError);
  });
});
