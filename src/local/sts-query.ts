/**
 * The local STS on the wire: the Query protocol (version 2011-06-15, namespace
 * https://sts.amazonaws.com/doc/2011-06-15/), AssumeRole and GetCallerIdentity with STS's members and shapes.
 * The caller is the access key the request was signed with.
 */
import { LocalServiceError } from './errors';
import { isoSeconds, memberList, memberStructs, readMembers, type QueryService } from './query-protocol';
import type { LocalSts } from './sts';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function stsQueryService(sts: LocalSts): QueryService {
  return {
    namespace: STS_NAMESPACE,
    version: '2011-06-15',
    operations: {
      AssumeRole: (params, accessKey) => {
        const m = readMembers(params, {
          RoleArn: { type: 'string', required: true, min: 20, max: 2048 },
          RoleSessionName: { type: 'string', required: true, min: 2, max: 64, pattern: '[\\w+=,.@-]*' },
          DurationSeconds: { type: 'integer', min: 900, max: 43_200 },
          ExternalId: { type: 'string', min: 2, max: 1224, pattern: '[\\w+=,.@:\\/-]*' },
          SourceIdentity: { type: 'string', min: 2, max: 64, pattern: '[\\w+=,.@-]*' },
          Policy: { type: 'string', min: 1 },
        });
        if (m.Policy !== undefined || memberStructs(params, 'PolicyArns', ['arn']).length) {
          throw new LocalServiceError('ValidationError', 'Session policies (Policy, PolicyArns) are not supported by the local STS.');
        }
        if (m.SourceIdentity?.toLowerCase().startsWith('aws:')) throw new LocalServiceError('ValidationError', 'SourceIdentity must not begin with aws:, a prefix AWS reserves.');
        const tags = memberStructs(params, 'Tags', ['Key', 'Value']);
        if (tags.length > 50) throw new LocalServiceError('ValidationError', "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50");
        if (tags.some((t) => !t.Key || t.Value === undefined)) throw new LocalServiceError('ValidationError', 'Each session tag needs a Key and a Value.');
        const caller = sts.caller(accessKey);
        const session = sts.assumeRole(
          {
            roleArn: m.RoleArn,
            sessionName: m.RoleSessionName,
            durationSeconds: m.DurationSeconds,
            externalId: m.ExternalId,
            sourceIdentity: m.SourceIdentity,
            ...(tags.length ? { tags: Object.fromEntries(tags.map((t) => [t.Key!, t.Value!])) } : {}),
            transitiveTagKeys: memberList(params, 'TransitiveTagKeys'),
          },
          caller,
        );
        return [
          ['Credentials', [['AccessKeyId', session.accessKeyId], ['SecretAccessKey', session.secretAccessKey], ['SessionToken', session.sessionToken], ['Expiration', isoSeconds(session.expires.getTime())]]],
          ['AssumedRoleUser', [['AssumedRoleId', `${session.roleId}:${session.sessionName}`], ['Arn', sts.sessionArn(session)]]],
          // Sent when the request packs tags into the session (a percentage of the limit).
          ['PackedPolicySize', tags.length ? Math.min(100, tags.length * 2) : undefined],
          ['SourceIdentity', session.sourceIdentity],
        ];
      },
      GetCallerIdentity: (_params, accessKey) => {
        const identity = sts.callerIdentity(sts.caller(accessKey));
        return [['UserId', identity.userId], ['Account', identity.account], ['Arn', identity.arn]];
      },
    },
  };
}
