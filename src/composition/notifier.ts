/**
 * The notifier (the notify function: the jobs stream's and the sweep schedule's target; on the local stack, the
 * stack's tap of the jobs table's writes and its timer): the job and audit stores, the webhook and SNS senders, the
 * secrets (Secrets Manager and SSM in AWS, `local.secrets` on the local stack).
 */
import { AwsSecretSource, LocalSecretSource } from '../adapters/notify/secrets';
import { publish } from '../adapters/notify/sns-publisher';
import { secretsManagerClient, snsClient, ssmClient } from '../adapters/sdk-clients/notify';
import { postWebhook } from '../adapters/notify/webhook';
import { Notifier } from '../notifications/notifier';
import { lambdaCore, type Core } from './core';

export function createNotifier(core: Core, options: { local?: boolean; apiUrl?: string } = {}): Notifier {
  const { config, env, target, jobs, audit } = core;
  const sns = snsClient(target);
  const apiUrl = options.apiUrl ?? env.apiUrl;
  return new Notifier({
    notifications: config.notifications,
    jobs,
    audit,
    sender: { webhook: postWebhook, sns: (request) => publish(sns, request) },
    secrets: options.local ? new LocalSecretSource(config.local.secrets) : new AwsSecretSource(secretsManagerClient(target), ssmClient(target)),
    ...(apiUrl ? { apiUrl } : {}),
  });
}

let notifier: Notifier | undefined;

export const lambdaNotifier = (): Notifier => (notifier ??= createNotifier(lambdaCore()));
