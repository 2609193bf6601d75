/**
 * The local IAM on the wire: the Query protocol (version 2010-05-08, namespace
 * https://iam.amazonaws.com/doc/2010-05-08/) with the members and shapes of IAM's service model: policy
 * documents URL-encoded in answers (RFC 3986, as IAM sends them and botocore decodes them), times in ISO 8601,
 * lists with IsTruncated and Marker. Each operation reads its members, calls LocalIam, and writes the Result.
 */
import { LocalServiceError } from './errors';
import type { IamInstanceProfile, IamPolicy, IamRole, LocalIam, Page, Tag } from './iam';
import { isoSeconds, memberNodes, memberStructs, readMembers, type MemberSpec, type QueryOperation, type QueryService } from './query-protocol';
import type { XmlNode } from './xml';

export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

// The members' constraints, from botocore's IAM model (data/iam/2010-05-08/service-2.json).
const ROLE_NAME = { type: 'string', required: true, min: 1, max: 64, pattern: '[\\w+=,.@-]+' } as const satisfies MemberSpec;
const PROFILE_NAME = { type: 'string', required: true, min: 1, max: 128, pattern: '[\\w+=,.@-]+' } as const satisfies MemberSpec;
const POLICY_NAME = { type: 'string', required: true, min: 1, max: 128, pattern: '[\\w+=,.@-]+' } as const satisfies MemberSpec;
const POLICY_DOCUMENT = { type: 'string', required: true, min: 1, max: 131_072, pattern: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+' } as const satisfies MemberSpec;
const POLICY_ARN = { type: 'string', required: true, min: 20, max: 2048 } as const satisfies MemberSpec;
const ROLE_PATH = { type: 'string', min: 1, max: 512, pattern: '(\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)' } as const satisfies MemberSpec;
const POLICY_PATH = { type: 'string', min: 1, max: 512, pattern: '((/[A-Za-z0-9\\.,\\+@=_-]+)*)/' } as const satisfies MemberSpec;
const PATH_PREFIX = { type: 'string', min: 1, max: 512, pattern: '\\u002F[\\u0021-\\u007F]*' } as const satisfies MemberSpec;
const PAGING = {
  Marker: { type: 'string', min: 1, max: 320, pattern: '[\\u0020-\\u00FF]+' },
  MaxItems: { type: 'integer', min: 1, max: 1000 },
} as const satisfies Record<string, MemberSpec>;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/** RFC 3986 percent-encoding, as IAM returns policy documents. */
export const encodeDocument = (document: string): string => encodeURIComponent(document).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function tagsOf(params: URLSearchParams): Tag[] {
  return memberStructs(params, 'Tags', ['Key', 'Value']).map((t, i) => {
    if (t.Key === undefined || !TAG_KEY.test(t.Key) || t.Value === undefined || !TAG_VALUE.test(t.Value)) {
      throw new LocalServiceError('ValidationError', `1 validation error detected: Value at 'tags.${i + 1}.member' failed to satisfy constraint: Key must be 1-128 and Value 0-256 characters of letters, digits, spaces and _.:/=+-@`);
    }
    return { Key: t.Key, Value: t.Value };
  });
}

/** Tags, where there are any (IAM leaves the member out otherwise). */
const tagsNode = (tags: readonly Tag[]): XmlNode => (tags.length ? memberNodes('Tags', tags.map((t) => [['Key', t.Key], ['Value', t.Value]])) : ['Tags', undefined]);
const pageNodes = <T>(name: string, page: Page<T>, item: (t: T) => string | XmlNode[]): XmlNode[] => [memberNodes(name, page.items.map(item)), ['IsTruncated', page.isTruncated], ['Marker', page.marker]];

/** A Role as each operation shows it: CreateRole without MaxSessionDuration, ListRoles without tags and last use. */
function roleNodes(iam: LocalIam, role: IamRole, view: 'create' | 'get' | 'list'): XmlNode[] {
  return [
    ['Path', role.path],
    ['RoleName', role.name],
    ['RoleId', role.id],
    ['Arn', iam.roleArn(role)],
    ['CreateDate', isoSeconds(role.created)],
    ['AssumeRolePolicyDocument', encodeDocument(role.trustPolicy)],
    ['Description', role.description],
    ['MaxSessionDuration', view === 'create' ? undefined : role.maxSessionDuration],
    view === 'list' ? ['Tags', undefined] : tagsNode(role.tags),
    // The local IAM does not record last use: an empty RoleLastUsed, as IAM shows a role never used.
    ['RoleLastUsed', view === 'get' ? [] : undefined],
  ];
}

/** An InstanceProfile, with its role as ListRoles shows one (IAM's Roles of a profile carry no tags or last use). */
function instanceProfileNodes(iam: LocalIam, profile: IamInstanceProfile): XmlNode[] {
  return [
    ['Path', profile.path],
    ['InstanceProfileName', profile.name],
    ['InstanceProfileId', profile.id],
    ['Arn', iam.instanceProfileArn(profile)],
    ['CreateDate', isoSeconds(profile.created)],
    memberNodes('Roles', iam.rolesOf(profile).map((role) => roleNodes(iam, role, 'list'))),
    tagsNode(profile.tags),
  ];
}

function policyNodes(iam: LocalIam, policy: IamPolicy, view: 'create' | 'get'): XmlNode[] {
  const arn = iam.policyArn(policy);
  return [
    ['PolicyName', policy.name],
    ['PolicyId', policy.id],
    ['Arn', arn],
    ['Path', policy.path],
    ['DefaultVersionId', 'v1'],
    ['AttachmentCount', iam.attachmentCount(arn)],
    ['PermissionsBoundaryUsageCount', 0],
    ['IsAttachable', true],
    ['Description', view === 'get' ? policy.description : undefined],
    ['CreateDate', isoSeconds(policy.created)],
    ['UpdateDate', isoSeconds(policy.updated)],
    tagsNode(policy.tags),
  ];
}

function iamOperations(iam: LocalIam): Record<string, QueryOperation> {
  return {
    CreateRole: (params) => {
      const m = readMembers(params, {
        RoleName: ROLE_NAME,
        AssumeRolePolicyDocument: POLICY_DOCUMENT,
        Path: ROLE_PATH,
        Description: { type: 'string', max: 1000, pattern: '[\\p{L}\\p{M}\\p{Z}\\p{S}\\p{N}\\p{P}]*' },
        MaxSessionDuration: { type: 'integer', min: 3600, max: 43_200 },
        PermissionsBoundary: { type: 'string', min: 20, max: 2048 },
      });
      if (m.PermissionsBoundary !== undefined) throw new LocalServiceError('InvalidInput', 'Permissions boundaries are not supported by the local IAM.');
      const role = iam.createRole({
        name: m.RoleName,
        trustPolicy: m.AssumeRolePolicyDocument,
        tags: tagsOf(params),
        path: m.Path,
        description: m.Description,
        maxSessionDuration: m.MaxSessionDuration,
      });
      return [['Role', roleNodes(iam, role, 'create')]];
    },
    GetRole: (params) => [['Role', roleNodes(iam, iam.getRole(readMembers(params, { RoleName: ROLE_NAME }).RoleName), 'get')]],
    ListRoles: (params) => {
      const m = readMembers(params, { PathPrefix: PATH_PREFIX, ...PAGING });
      const page = iam.listRoles({ pathPrefix: m.PathPrefix, marker: m.Marker, maxItems: m.MaxItems });
      return pageNodes('Roles', page, (role) => roleNodes(iam, role, 'list'));
    },
    DeleteRole: (params) => void iam.deleteRole(readMembers(params, { RoleName: ROLE_NAME }).RoleName),
    UpdateAssumeRolePolicy: (params) => {
      const m = readMembers(params, { RoleName: ROLE_NAME, PolicyDocument: POLICY_DOCUMENT });
      iam.updateAssumeRolePolicy(m.RoleName, m.PolicyDocument);
      return undefined;
    },
    PutRolePolicy: (params) => {
      const m = readMembers(params, { RoleName: ROLE_NAME, PolicyName: POLICY_NAME, PolicyDocument: POLICY_DOCUMENT });
      iam.putRolePolicy(m.RoleName, m.PolicyName, m.PolicyDocument);
      return undefined;
    },
    GetRolePolicy: (params) => {
      const m = readMembers(params, { RoleName: ROLE_NAME, PolicyName: POLICY_NAME });
      const policy = iam.getRolePolicy(m.RoleName, m.PolicyName);
      return [['RoleName', policy.roleName], ['PolicyName', policy.policyName], ['PolicyDocument', encodeDocument(policy.document)]];
    },
    ListRolePolicies: (params) => {
      const m = readMembers(params, { RoleName: ROLE_NAME, ...PAGING });
      return pageNodes('PolicyNames', iam.listRolePolicies(m.RoleName, { marker: m.Marker, maxItems: m.MaxItems }), (name) => name);
    },
    DeleteRolePolicy: (params) => {
      const m = readMembers(params, { RoleName: ROLE_NAME, PolicyName: POLICY_NAME });
      iam.deleteRolePolicy(m.RoleName, m.PolicyName);
      return undefined;
    },
    CreatePolicy: (params) => {
      const m = readMembers(params, { PolicyName: POLICY_NAME, PolicyDocument: POLICY_DOCUMENT, Path: POLICY_PATH, Description: { type: 'string', max: 1000 } });
      const policy = iam.createPolicy({ name: m.PolicyName, document: m.PolicyDocument, tags: tagsOf(params), path: m.Path, description: m.Description });
      return [['Policy', policyNodes(iam, policy, 'create')]];
    },
    GetPolicy: (params) => [['Policy', policyNodes(iam, iam.getPolicy(readMembers(params, { PolicyArn: POLICY_ARN }).PolicyArn), 'get')]],
    GetPolicyVersion: (params) => {
      const m = readMembers(params, { PolicyArn: POLICY_ARN, VersionId: { type: 'string', required: true, pattern: 'v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?' } });
      const version = iam.getPolicyVersion(m.PolicyArn, m.VersionId);
      return [['PolicyVersion', [['Document', encodeDocument(version.document)], ['VersionId', version.versionId], ['IsDefaultVersion', version.isDefaultVersion], ['CreateDate', isoSeconds(version.created)]]]];
    },
    AttachRolePolicy: (params) => {
      const m = readMembers(params, { RoleName: ROLE_NAME, PolicyArn: POLICY_ARN });
      iam.attachRolePolicy(m.RoleName, m.PolicyArn);
      return undefined;
    },
    DetachRolePolicy: (params) => {
      const m = readMembers(params, { RoleName: ROLE_NAME, PolicyArn: POLICY_ARN });
      iam.detachRolePolicy(m.RoleName, m.PolicyArn);
      return undefined;
    },
    ListAttachedRolePolicies: (params) => {
      const m = readMembers(params, { RoleName: ROLE_NAME, PathPrefix: POLICY_PATH, ...PAGING });
      const page = iam.listAttachedRolePolicies(m.RoleName, { pathPrefix: m.PathPrefix, marker: m.Marker, maxItems: m.MaxItems });
      return pageNodes('AttachedPolicies', page, (p) => [['PolicyName', p.name], ['PolicyArn', p.arn]]);
    },
    CreateInstanceProfile: (params) => {
      const m = readMembers(params, { InstanceProfileName: PROFILE_NAME, Path: ROLE_PATH });
      return [['InstanceProfile', instanceProfileNodes(iam, iam.createInstanceProfile({ name: m.InstanceProfileName, path: m.Path, tags: tagsOf(params) }))]];
    },
    GetInstanceProfile: (params) => [['InstanceProfile', instanceProfileNodes(iam, iam.getInstanceProfile(readMembers(params, { InstanceProfileName: PROFILE_NAME }).InstanceProfileName))]],
    DeleteInstanceProfile: (params) => void iam.deleteInstanceProfile(readMembers(params, { InstanceProfileName: PROFILE_NAME }).InstanceProfileName),
    AddRoleToInstanceProfile: (params) => {
      const m = readMembers(params, { InstanceProfileName: PROFILE_NAME, RoleName: ROLE_NAME });
      iam.addRoleToInstanceProfile(m.InstanceProfileName, m.RoleName);
      return undefined;
    },
    RemoveRoleFromInstanceProfile: (params) => {
      const m = readMembers(params, { InstanceProfileName: PROFILE_NAME, RoleName: ROLE_NAME });
      iam.removeRoleFromInstanceProfile(m.InstanceProfileName, m.RoleName);
      return undefined;
    },
    ListInstanceProfiles: (params) => {
      const m = readMembers(params, { PathPrefix: PATH_PREFIX, ...PAGING });
      return pageNodes('InstanceProfiles', iam.listInstanceProfiles({ pathPrefix: m.PathPrefix, marker: m.Marker, maxItems: m.MaxItems }), (p) => instanceProfileNodes(iam, p));
    },
    ListInstanceProfilesForRole: (params) => {
      const m = readMembers(params, { RoleName: ROLE_NAME, ...PAGING });
      return pageNodes('InstanceProfiles', iam.listInstanceProfilesForRole(m.RoleName, { marker: m.Marker, maxItems: m.MaxItems }), (p) => instanceProfileNodes(iam, p));
    },
  };
}

/** IAM as a Query service of the AWS port. */
export function iamQueryService(iam: LocalIam): QueryService {
  return { namespace: IAM_NAMESPACE, version: '2010-05-08', operations: iamOperations(iam) };
}
