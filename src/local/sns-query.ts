/**
 * The local SNS on the wire: the Query protocol (version 2010-03-31, namespace http://sns.amazonaws.com/doc/2010-03-31/),
 * with SNS's members and shapes (botocore's sns model): maps as `Attributes.entry.N.key/value` and
 * `MessageAttributes.entry.N.Name/Value.DataType/Value.StringValue`.
 */
import { LocalServiceError } from './errors';
import { memberNodes, readMembers, type QueryService } from './query-protocol';
import type { LocalSns } from './sns';
import type { XmlNode } from './xml';

export const SNS_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';

/** A map member: `Name.entry.N.<key>` / `Name.entry.N.<value...>`. */
function entries(params: URLSearchParams, name: string, keyField: string, valueField: string): Map<string, Record<string, string>> {
  const byIndex = new Map<string, Record<string, string>>();
  const prefix = `${name}.entry.`;
  for (const [key, value] of params) {
    if (!key.startsWith(prefix)) continue;
    const [index = '', ...rest] = key.slice(prefix.length).split('.');
    const entry = byIndex.get(index) ?? {};
    entry[rest.join('.')] = value;
    byIndex.set(index, entry);
  }
  const out = new Map<string, Record<string, string>>();
  for (const entry of byIndex.values()) {
    const k = entry[keyField];
    if (k === undefined) throw new LocalServiceError('InvalidParameter', `Invalid parameter: ${name} entry without its ${keyField}`);
    const value = Object.fromEntries(Object.entries(entry).filter(([f]) => f === valueField || f.startsWith(`${valueField}.`)).map(([f, v]) => [f === valueField ? '' : f.slice(valueField.length + 1), v]));
    out.set(k, value);
  }
  return out;
}

const TOPIC_ARN = { type: 'string', required: true } as const;

export function snsQueryService(sns: LocalSns, owner: string): QueryService {
  return {
    namespace: SNS_NAMESPACE,
    version: '2010-03-31',
    operations: {
      CreateTopic: (params) => {
        const m = readMembers(params, { Name: { type: 'string', required: true } });
        const attributes = Object.fromEntries([...entries(params, 'Attributes', 'key', 'value')].map(([k, v]) => [k, v[''] ?? '']));
        return [['TopicArn', sns.createTopic(m.Name, attributes)]];
      },
      DeleteTopic: (params) => {
        sns.deleteTopic(readMembers(params, { TopicArn: TOPIC_ARN }).TopicArn);
        return undefined;
      },
      ListTopics: () => [memberNodes('Topics', sns.listTopics().map((arn): XmlNode[] => [['TopicArn', arn]]))],
      Subscribe: (params) => {
        const m = readMembers(params, { TopicArn: TOPIC_ARN, Protocol: { type: 'string', required: true }, Endpoint: { type: 'string' }, ReturnSubscriptionArn: { type: 'string' } });
        const sub = sns.subscribe(m.TopicArn, m.Protocol, m.Endpoint);
        return [['SubscriptionArn', sub.confirmed || m.ReturnSubscriptionArn === 'true' ? sub.arn : 'pending confirmation']];
      },
      ConfirmSubscription: (params) => {
        const m = readMembers(params, { TopicArn: TOPIC_ARN, Token: { type: 'string', required: true }, AuthenticateOnUnsubscribe: { type: 'string' } });
        return [['SubscriptionArn', sns.confirm(m.TopicArn, m.Token)]];
      },
      Unsubscribe: (params) => {
        sns.unsubscribe(readMembers(params, { SubscriptionArn: { type: 'string', required: true } }).SubscriptionArn);
        return undefined;
      },
      ListSubscriptionsByTopic: (params) => {
        const m = readMembers(params, { TopicArn: TOPIC_ARN, NextToken: { type: 'string' } });
        const subs = sns.listSubscriptionsByTopic(m.TopicArn);
        return [memberNodes('Subscriptions', subs.map((s): XmlNode[] => [
          ['SubscriptionArn', s.confirmed ? s.arn : 'PendingConfirmation'],
          ['Owner', owner],
          ['Protocol', s.protocol],
          ['Endpoint', s.endpoint],
          ['TopicArn', s.topicArn],
        ]))];
      },
      Publish: (params) => {
        const m = readMembers(params, {
          TopicArn: { type: 'string' },
          TargetArn: { type: 'string' },
          PhoneNumber: { type: 'string' },
          Message: { type: 'string', required: true },
          Subject: { type: 'string' },
          MessageStructure: { type: 'string' },
          MessageGroupId: { type: 'string' },
          MessageDeduplicationId: { type: 'string' },
        });
        if (m.PhoneNumber !== undefined || (m.TargetArn !== undefined && m.TopicArn === undefined)) throw new LocalServiceError('InvalidParameter', 'Invalid parameter: the local SNS publishes to topics only (TopicArn)');
        const topicArn = m.TopicArn ?? m.TargetArn;
        if (topicArn === undefined) throw new LocalServiceError('InvalidParameter', 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
        if (m.MessageStructure !== undefined && m.MessageStructure !== 'json') throw new LocalServiceError('InvalidParameter', 'Invalid parameter: MessageStructure');
        let message = m.Message;
        if (m.MessageStructure === 'json') {
          const parsed = (() => {
            try {
              return JSON.parse(m.Message) as Record<string, unknown>;
            } catch {
              return undefined;
            }
          })();
          if (!parsed || typeof parsed.default !== 'string') throw new LocalServiceError('InvalidParameter', 'Invalid parameter: Message Structure - No default entry in JSON message body');
          message = typeof parsed.http === 'string' ? parsed.http : parsed.default;
        }
        const attributes: Record<string, { Type: string; Value: string }> = {};
        for (const [name, value] of entries(params, 'MessageAttributes', 'Name', 'Value')) {
          const type = value.DataType;
          const text = value.StringValue ?? value.BinaryValue;
          if (!type || text === undefined) throw new LocalServiceError('ParameterValueInvalid', `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${type ?? ''}'.`);
          attributes[name] = { Type: type, Value: text };
        }
        const out = sns.publish({ topicArn, message, ...(m.Subject !== undefined ? { subject: m.Subject } : {}), attributes, ...(m.MessageGroupId ? { groupId: m.MessageGroupId } : {}), ...(m.MessageDeduplicationId ? { deduplicationId: m.MessageDeduplicationId } : {}) });
        return [['MessageId', out.messageId], ['SequenceNumber', out.sequenceNumber]];
      },
    },
  };
}
