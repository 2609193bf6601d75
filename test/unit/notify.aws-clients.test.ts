/** The notifier's AWS adapters over the SDK's clients, mocked: what they ask for, what they keep, how they fail. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient, SNSServiceException } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsSecretSource } from '../../src/adapters/notify/secrets';
import { publish, publishInput } from '../../src/adapters/notify/sns-publisher';

const sm = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);
afterEach(() => [sm, ssm, sns].forEach((m) => m.reset()));
afterAll(() => [sm, ssm, sns].forEach((m) => m.restore()));

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hook-AbCdEf';

it('reads a Secrets Manager secret or an SSM parameter (decrypted), and keeps it 5 minutes', async () => {
  let now = 0;
  sm.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({ SecretString: 's3cret' });
  ssm.on(GetParameterCommand, { Name: '/hooks/ops', WithDecryption: true }).resolves({ Parameter: { Value: 'p4ram' } });
  const source = new AwsSecretSource(new SecretsManagerClient({ region: 'us-east-1' }), new SSMClient({ region: 'us-east-1' }), () => now);
  await expect(source.get({ secretsManager: SECRET })).resolves.toBe('s3cret');
  await expect(source.get({ ssmParameter: '/hooks/ops' })).resolves.toBe('p4ram');
  now += 299_000;
  await source.get({ secretsManager: SECRET });
  expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  now += 2_000;
  await source.get({ secretsManager: SECRET });
  expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
});

it("a failure names the reference and the service's error, never a value; an empty secret is refused", async () => {
  const source = new AwsSecretSource(new SecretsManagerClient({ region: 'us-east-1' }), new SSMClient({ region: 'us-east-1' }));
  sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('User: x is not authorized'), { name: 'AccessDeniedException' }));
  await expect(source.get({ secretsManager: SECRET })).rejects.toThrow(`cannot read the secret ${SECRET}: AccessDeniedException`);
  ssm.on(GetParameterCommand).resolves({ Parameter: {} });
  await expect(source.get({ ssmParameter: '/hooks/none' })).rejects.toThrow('parameter /hooks/none has no value');
});

it('publishes with string attributes, FIFO ids where the topic is FIFO; a refusal is an outcome with its status', async () => {
  const request = { topicArn: 'arn:aws:sns:us-east-1:123456789012:jobs.fifo', message: '{}', subject: 'EMR job COMPLETED: n', attributes: { status: 'COMPLETED' }, fifo: { groupId: 'job-1', deduplicationId: 'd1' }, timeoutMs: 5000 };
  expect(publishInput(request)).toEqual({
    TopicArn: request.topicArn, Message: '{}', Subject: request.subject,
    MessageAttributes: { status: { DataType: 'String', StringValue: 'COMPLETED' } },
    MessageGroupId: 'job-1', MessageDeduplicationId: 'd1',
  });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  await expect(publish(new SNSClient({ region: 'us-east-1' }), request)).resolves.toEqual({ ok: true, messageId: 'm-1' });
  sns.on(PublishCommand).rejects(new SNSServiceException({ name: 'AuthorizationError', message: 'not allowed', $fault: 'client', $metadata: { httpStatusCode: 403 } }));
  await expect(publish(new SNSClient({ region: 'us-east-1' }), request)).resolves.toEqual({ ok: false, status: 403, error: 'SNS Publish: AuthorizationError: not allowed' });
});
