/**
 * The local SNS: topics, HTTP/HTTPS subscriptions with SNS's SubscriptionConfirmation handshake, and Publish, which
 * delivers each message to every confirmed subscription in SNS's own HTTP envelope (Type, MessageId, TopicArn,
 * Subject, Message, Timestamp, SignatureVersion 1, Signature, SigningCertURL, UnsubscribeURL, MessageAttributes),
 * signed SHA1withRSA with the stack's signing key, whose certificate is served at SigningCertURL. What the gateway's
 * notifications and the AWS CLI use (`aws sns create-topic/subscribe/publish`), kept in DATA_DIR/sns/sns.json (0600)
 * across restarts, the signing key with it. Deliveries are retried 3 times 1 s apart (SNS's default HTTP policy:
 * 3 retries over about a minute), then dropped with a log line; only loopback endpoints are delivered to.
 */
import { createPrivateKey, createPublicKey, createSign, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../util/logger';
import { LocalServiceError } from './errors';
import { privateDir, readPrivateJson, writePrivateJson } from './private-store';
import { selfSignedCertificate } from './x509';

export const SNS_CERT_PATH = '/_local/sns/SimpleNotificationService.pem';
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const FIFO_NAME = /^[A-Za-z0-9_-]{1,251}\.fifo$/;
const RETRY_DELAYS_MS = [1000, 1000, 1000];
const DELIVERY_TIMEOUT_MS = 15_000;

export interface Subscription {
  arn: string;
  topicArn: string;
  protocol: 'http' | 'https';
  endpoint: string;
  /** Until confirmed: the token its SubscriptionConfirmation carried. */
  token?: string;
  confirmed: boolean;
}

interface Topic {
  arn: string;
  attributes: Record<string, string>;
}

interface State {
  topics: Topic[];
  subscriptions: Subscription[];
  key?: string;
}

export interface PublishInput {
  topicArn: string;
  message: string;
  subject?: string;
  attributes: Record<string, { Type: string; Value: string }>;
  groupId?: string;
  deduplicationId?: string;
}

export class LocalSns {
  private readonly topics = new Map<string, Topic>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly file?: string;
  private readonly privateKey: KeyObject;
  readonly certificate: string;
  private readonly deliveries = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: { account: string; region: string; partition: string; dataDir?: string; url: () => string }) {
    if (options.dataDir) this.file = join(privateDir(join(options.dataDir, 'sns')), 'sns.json');
    const state = (this.file ? readPrivateJson(this.file) : undefined) as State | undefined;
    for (const t of state?.topics ?? []) this.topics.set(t.arn, t);
    for (const s of state?.subscriptions ?? []) this.subscriptions.set(s.arn, s);
    this.privateKey = state?.key ? createPrivateKey(state.key) : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    this.certificate = selfSignedCertificate(this.privateKey, createPublicKey(this.privateKey), `sns.${options.region}.amazonaws.com`, new Date(Date.UTC(2026, 0, 1)), 3650, randomBytes(8));
    this.save();
  }

  private save(): void {
    if (!this.file) return;
    const state: State = { topics: [...this.topics.values()], subscriptions: [...this.subscriptions.values()], key: this.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
    writePrivateJson(this.file, state);
  }

  topicArn(name: string): string {
    return `arn:${this.options.partition}:sns:${this.options.region}:${this.options.account}:${name}`;
  }

  /** Idempotent, as SNS's: the same name (and attributes) gives the same ARN. */
  createTopic(name: string, attributes: Record<string, string> = {}): string {
    const fifo = attributes.FifoTopic === 'true';
    if (!(fifo ? FIFO_NAME : TOPIC_NAME).test(name)) {
      throw new LocalServiceError('InvalidParameter', fifo ? 'Invalid parameter: Topic Name' : 'Invalid parameter: Topic Name');
    }
    if (!fifo && name.endsWith('.fifo')) throw new LocalServiceError('InvalidParameter', 'Invalid parameter: Topic Name');
    const arn = this.topicArn(name);
    const existing = this.topics.get(arn);
    if (existing) {
      if (Object.entries(attributes).some(([k, v]) => existing.attributes[k] !== undefined && existing.attributes[k] !== v)) {
        throw new LocalServiceError('InvalidParameter', 'Invalid parameter: Attributes Reason: Topic already exists with different attributes');
      }
      return arn;
    }
    this.topics.set(arn, { arn, attributes: { ...attributes } });
    this.save();
    return arn;
  }

  deleteTopic(arn: string): void {
    this.topics.delete(arn);
    for (const s of [...this.subscriptions.values()]) if (s.topicArn === arn) this.subscriptions.delete(s.arn);
    this.save();
  }

  listTopics(): string[] {
    return [...this.topics.keys()].sort();
  }

  private topic(arn: string): Topic {
    const topic = this.topics.get(arn);
    if (!topic) throw new LocalServiceError('NotFound', 'Topic does not exist', 404);
    return topic;
  }

  /** A pending subscription, and its SubscriptionConfirmation sent to the endpoint (in the background, as SNS does). */
  subscribe(topicArn: string, protocol: string, endpoint: string | undefined): Subscription {
    this.topic(topicArn);
    if (protocol !== 'http' && protocol !== 'https') throw new LocalServiceError('InvalidParameter', `Invalid parameter: Protocol (the local SNS delivers to http and https endpoints only, not ${protocol})`);
    let url: URL;
    try {
      url = new URL(endpoint ?? '');
    } catch {
      throw new LocalServiceError('InvalidParameter', 'Invalid parameter: Endpoint');
    }
    if (url.protocol !== `${protocol}:`) throw new LocalServiceError('InvalidParameter', 'Invalid parameter: Endpoint must match the specified protocol');
    const existing = [...this.subscriptions.values()].find((s) => s.topicArn === topicArn && s.endpoint === endpoint);
    if (existing?.confirmed) return existing;
    const sub: Subscription = existing ?? { arn: `${topicArn}:${randomUUID()}`, topicArn, protocol, endpoint: url.href, confirmed: false };
    sub.token = randomBytes(64).toString('hex');
    this.subscriptions.set(sub.arn, sub);
    this.save();
    const params = new URLSearchParams({ Action: 'ConfirmSubscription', TopicArn: topicArn, Token: sub.token });
    this.deliver(sub, this.signed({
      Type: 'SubscriptionConfirmation',
      MessageId: randomUUID(),
      Token: sub.token,
      TopicArn: topicArn,
      Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: `${this.options.url()}/?${params.toString()}`,
      Timestamp: new Date().toISOString(),
    }));
    return sub;
  }

  confirm(topicArn: string, token: string): string {
    this.topic(topicArn);
    const sub = [...this.subscriptions.values()].find((s) => s.topicArn === topicArn && s.token === token);
    if (!sub) throw new LocalServiceError('InvalidParameter', 'Invalid token');
    sub.confirmed = true;
    this.save();
    return sub.arn;
  }

  unsubscribe(arn: string): void {
    if (!this.subscriptions.delete(arn)) throw new LocalServiceError('NotFound', 'Subscription does not exist', 404);
    this.save();
  }

  listSubscriptionsByTopic(topicArn: string): Subscription[] {
    this.topic(topicArn);
    return [...this.subscriptions.values()].filter((s) => s.topicArn === topicArn);
  }

  publish(input: PublishInput): { messageId: string; sequenceNumber?: string } {
    const topic = this.topic(input.topicArn);
    const fifo = topic.attributes.FifoTopic === 'true';
    if (fifo && !input.groupId) throw new LocalServiceError('InvalidParameter', 'Invalid parameter: The MessageGroupId parameter is required for FIFO topics');
    if (!fifo && input.groupId) throw new LocalServiceError('InvalidParameter', 'Invalid parameter: The request includes MessageGroupId parameter that is not valid for this topic type');
    if (input.subject !== undefined && (!/^[\x20-\x7E]+$/.test(input.subject) || input.subject.length >= 100)) throw new LocalServiceError('InvalidParameter', 'Invalid parameter: Subject');
    if (Buffer.byteLength(input.message) > 262_144) throw new LocalServiceError('InvalidParameter', 'Invalid parameter: Message too long');
    const messageId = randomUUID();
    for (const sub of this.subscriptions.values()) {
      if (sub.topicArn !== topic.arn || !sub.confirmed) continue;
      this.deliver(sub, this.signed({
        Type: 'Notification',
        MessageId: messageId,
        TopicArn: topic.arn,
        ...(input.subject !== undefined ? { Subject: input.subject } : {}),
        Message: input.message,
        Timestamp: new Date().toISOString(),
      }, { UnsubscribeURL: `${this.options.url()}/?${new URLSearchParams({ Action: 'Unsubscribe', SubscriptionArn: sub.arn }).toString()}`, ...(Object.keys(input.attributes).length ? { MessageAttributes: input.attributes } : {}) }));
    }
    return { messageId, ...(fifo ? { sequenceNumber: String(Date.now()).padStart(20, '0') } : {}) };
  }

  /** The envelope with SNS's SignatureVersion 1 signature over its canonical fields, then `after` (unsigned). */
  private signed(fields: Record<string, string>, after: Record<string, unknown> = {}): Record<string, unknown> {
    const order = fields.Type === 'Notification' ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
    const canonical = order.filter((k) => fields[k] !== undefined).map((k) => `${k}\n${fields[k]}\n`).join('');
    const Signature = createSign('RSA-SHA1').update(canonical, 'utf8').sign(this.privateKey, 'base64');
    return { ...fields, SignatureVersion: '1', Signature, SigningCertURL: `${this.options.url()}${SNS_CERT_PATH}`, ...after };
  }

  private deliver(sub: Subscription, envelope: Record<string, unknown>): void {
    const host = new URL(sub.endpoint).hostname;
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
      logger.warn('local SNS: not delivering to an endpoint off this machine', { subscription: sub.arn, host });
      return;
    }
    const run = (async () => {
      for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length && !this.stopped; attempt++) {
        if (attempt) await sleep(RETRY_DELAYS_MS[attempt - 1]);
        try {
          const response = await fetch(sub.endpoint, {
            method: 'POST',
            headers: {
              'Content-Type': 'text/plain; charset=UTF-8',
              'User-Agent': 'Amazon Simple Notification Service Agent',
              'x-amz-sns-message-type': String(envelope.Type),
              'x-amz-sns-message-id': String(envelope.MessageId),
              'x-amz-sns-topic-arn': sub.topicArn,
              ...(envelope.Type === 'Notification' ? { 'x-amz-sns-subscription-arn': sub.arn } : {}),
            },
            body: JSON.stringify(envelope),
            redirect: 'manual',
            signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
          });
          await response.arrayBuffer().catch(() => undefined);
          if (response.status >= 200 && response.status < 300) return;
        } catch {
          // retried below
        }
      }
      if (!this.stopped) logger.warn('local SNS: delivery failed after its retries, dropped', { subscription: sub.arn, type: envelope.Type });
    })();
    this.deliveries.add(run);
    void run.finally(() => this.deliveries.delete(run));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.deliveries);
  }
}
