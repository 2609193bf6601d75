/**
 * The local EMR's answers held against EMR's model (botocore's, as Debian's awscli ships it): what `aws emr
 * describe-cluster` calls, ListSteps' summaries and order, and the exceptions of malformed input. Skipped, with
 * the reason printed, where the models are not installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEmr } from '../../src/local/emr/api';
import { checkResponse, loadModel, modelsInstalled, BOTOCORE_DATA } from '../support/aws-models';
import { thrown } from '../support/thrown';

const CLUSTER = 'j-1LOCALWIRETEST';
const present = modelsInstalled();
if (!present) console.warn(`SKIPPED: the local EMR's model checks: botocore's models are not at ${BOTOCORE_DATA} (apt-get install -y awscli)`);
const describeIf = present ? describe : describe.skip;

let dir: string;
let emr: LocalEmr;
let clock = 1_700_000_000_000;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'emr-gateway-emr-wire-'));
  // One millisecond for every step: order must not depend on the clock's resolution.
  emr = new LocalEmr({ dataDir: dir, region: 'eu-west-1', account: '123456789012', env: { PATH: process.env.PATH }, now: () => clock });
  emr.ensureCluster({ id: CLUSTER, name: 'wire', runtimeRoles: false, propagateSourceIdentity: false, stepConcurrencyLevel: 1 });
});
afterEach(async () => {
  await emr.stop();
  rmSync(dir, { recursive: true, force: true });
  clock += 1000;
});

/** The model's problems with `output` as `operation`'s answer. */
const problems = (operation: string, output: unknown): string[] =>
  checkResponse(loadModel('emr')!, operation, { status: 200, headers: { 'x-amzn-requestid': 'r' }, body: JSON.stringify(output) });

const step = (name: string) => ({ Name: name, ActionOnFailure: 'CONTINUE', HadoopJarStep: { Jar: 'command-runner.jar', Args: ['sleep', '30'] } });

describeIf('the local EMR against the model', () => {
  it('describe-cluster: DescribeCluster, ListInstanceGroups and ListBootstrapActions answer as the model says', () => {
    expect(problems('DescribeCluster', emr.describeCluster({ ClusterId: CLUSTER }))).toEqual([]);
    expect(emr.describeCluster({ ClusterId: CLUSTER }).Cluster).toMatchObject({ InstanceCollectionType: 'INSTANCE_GROUP', ClusterArn: `arn:aws:elasticmapreduce:eu-west-1:123456789012:cluster/${CLUSTER}` });
    const groups = emr.listInstanceGroups({ ClusterId: CLUSTER });
    expect(problems('ListInstanceGroups', groups)).toEqual([]);
    expect(groups.InstanceGroups.map((g) => g.InstanceGroupType)).toEqual(['MASTER', 'CORE']);
    expect(problems('ListBootstrapActions', emr.listBootstrapActions({ ClusterId: CLUSTER }))).toEqual([]);
    expect(problems('ListClusters', emr.listClusters({}))).toEqual([]);
  });

  it('ListSteps: summaries as the model has them (no ExecutionRoleArn), newest first, also within one AddJobFlowSteps', () => {
    const first = emr.addJobFlowSteps({ JobFlowId: CLUSTER, Steps: [step('a'), step('b'), step('c')] }).StepIds;
    const second = emr.addJobFlowSteps({ JobFlowId: CLUSTER, Steps: [step('d')] }).StepIds;
    const listed = emr.listSteps({ ClusterId: CLUSTER });
    expect(problems('ListSteps', listed)).toEqual([]);
    expect(listed.Steps.map((s) => s.Id)).toEqual([...first, ...second].reverse());
    expect(problems('DescribeStep', emr.describeStep({ ClusterId: CLUSTER, StepId: first[0] }))).toEqual([]);
  });

  it('malformed input: a missing required member and an enum value outside the model are ValidationException, a wrong type SerializationException', () => {
    expect(thrown(() => emr.listSteps({}))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/Value null at 'clusterId' failed to satisfy constraint: Member must not be null/) });
    expect(thrown(() => emr.listSteps({ ClusterId: CLUSTER, StepStates: ['DONE'] }))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/at 'stepStates'.*enum value set/) });
    expect(thrown(() => emr.listSteps({ ClusterId: CLUSTER, StepStates: 'RUNNING' as never }))).toMatchObject({ type: 'SerializationException' });
    expect(thrown(() => emr.listClusters({ ClusterStates: ['GONE'] }))).toMatchObject({ type: 'ValidationException' });
    expect(thrown(() => emr.describeStep({ ClusterId: CLUSTER }))).toMatchObject({ type: 'ValidationException' });
    // An id that is well formed but unknown is EMR's InvalidRequestException, as before.
    expect(thrown(() => emr.listSteps({ ClusterId: 'j-NOSUCHCLUSTER' }))).toMatchObject({ type: 'InvalidRequestException' });
  });
});
