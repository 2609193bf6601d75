/**
 * The local IAM: roles (trust policy, inline policies, attached managed policies, tags), instance profiles and customer managed
 * policies (one version, v1), with IAM's rules: names unique whatever their case, ids (AROA..., ANPA...) that a
 * re-created entity does not get back, policy documents checked as IAM checks them (JSON, the grammar through
 * the project's compiler, a trust policy's principals and STS-only actions, no Principal in a permissions
 * policy), IAM's quotas (white space not counted) and errors (NoSuchEntity, EntityAlreadyExists,
 * MalformedPolicyDocument, DeleteConflict, LimitExceeded). Documents are kept as written, as IAM keeps them.
 * State is DATA_DIR/iam/iam.json (0600 in a 0700 directory), written at every change, so `aws iam ...`
 * against the AWS port outlasts a restart. The local STS reads roles and their compiled policies from here.
 * The wire (Query protocol, XML) is iam-query.ts.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { splitArn } from '../authz/arn';
import { compilePolicy, type CompiledPolicy, type PolicyKind } from '../authz/policy';
import { PolicyCompileError } from '../errors';
import { formatPath } from '../util/format';
import { LocalServiceError } from './errors';
import { privateDir, readPrivateJson, writePrivateJson } from './private-store';

export interface Tag {
  Key: string;
  Value: string;
}

export interface IamRole {
  name: string;
  path: string;
  id: string;
  /** Epoch milliseconds. */
  created: number;
  trustPolicy: string;
  description?: string;
  maxSessionDuration: number;
  tags: Tag[];
  /** Inline policies: name → document. */
  inlinePolicies: Record<string, string>;
  /** Managed policies attached, by ARN, in the order attached. */
  attachedPolicies: string[];
}

/** An instance profile: what EC2 gives an instance (an EMR node) is the credentials of its one role. */
export interface IamInstanceProfile {
  name: string;
  path: string;
  id: string;
  created: number;
  /** The role's name (at most one, IAM's quota); kept by name, as IAM resolves it when read. */
  roles: string[];
  tags: Tag[];
}

export interface IamPolicy {
  name: string;
  path: string;
  id: string;
  created: number;
  updated: number;
  description?: string;
  /** The document of v1, the default (and only) version. */
  document: string;
  tags: Tag[];
}

interface IamStore {
  version: 1;
  roles: IamRole[];
  policies: IamPolicy[];
  /** Absent from stores written before the local IAM had instance profiles. */
  instanceProfiles?: IamInstanceProfile[];
  /** What the stack's seeding last wrote, by entity (iam-seed.ts): a later start changes only what still reads so. */
  seeded: Record<string, string>;
}

export interface Page<T> {
  items: T[];
  isTruncated: boolean;
  /** Where the next page starts, when truncated. */
  marker?: string;
}

export interface LocalIamOptions {
  dataDir: string;
  partition: string;
  account: string;
  now?: () => number;
}

/** IAM's quotas (IAM and AWS STS quotas), in characters without white space. */
export const IAM_QUOTAS = { trustPolicy: 2048, inlinePoliciesPerRole: 10_240, managedPolicy: 6144, managedPoliciesPerRole: 10 } as const;
const DEFAULT_MAX_SESSION = 3600;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const noSuchEntity = (message: string) => new LocalServiceError('NoSuchEntity', message, 404);
const malformed = (message: string) => new LocalServiceError('MalformedPolicyDocument', message);
const sizeOf = (document: string): number => document.replace(/\s/g, '').length;

/** An IAM unique id: a prefix (AROA roles, ANPA managed policies) and 17 random base32 characters. */
function uniqueId(prefix: string): string {
  return prefix + [...randomBytes(17)].map((b) => BASE32[b % 32]).join('');
}

export class LocalIam {
  private readonly file: string;
  private store: IamStore;
  private readonly compiled = new Map<string, CompiledPolicy>();
  private readonly now: () => number;

  constructor(private readonly options: LocalIamOptions) {
    this.file = join(privateDir(join(options.dataDir, 'iam')), 'iam.json');
    this.now = options.now ?? Date.now;
    this.store = this.load();
  }

  get account(): string {
    return this.options.account;
  }

  roleArn(role: Pick<IamRole, 'path' | 'name'>): string {
    return `arn:${this.options.partition}:iam::${this.options.account}:role${role.path}${role.name}`;
  }

  policyArn(policy: Pick<IamPolicy, 'path' | 'name'>): string {
    return `arn:${this.options.partition}:iam::${this.options.account}:policy${policy.path}${policy.name}`;
  }

  // ---- roles ------------------------------------------------------------------------------------------

  createRole(input: { name: string; trustPolicy: string; path?: string; description?: string; maxSessionDuration?: number; tags?: Tag[] }): IamRole {
    if (this.findRoleByName(input.name)) throw new LocalServiceError('EntityAlreadyExists', `Role with name ${input.name} already exists.`, 409);
    this.checkTrustPolicy(input.name, input.trustPolicy);
    checkTags(input.tags ?? []);
    const role: IamRole = {
      name: input.name,
      path: input.path ?? '/',
      id: uniqueId('AROA'),
      created: this.now(),
      trustPolicy: input.trustPolicy,
      ...(input.description ? { description: input.description } : {}),
      maxSessionDuration: input.maxSessionDuration ?? DEFAULT_MAX_SESSION,
      tags: input.tags ?? [],
      inlinePolicies: {},
      attachedPolicies: [],
    };
    this.store.roles.push(role);
    this.save();
    return role;
  }

  getRole(name: string): IamRole {
    const role = this.findRoleByName(name);
    if (!role) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    return role;
  }

  /** The role an ARN names in this account, if it exists (STS: AssumeRole's RoleArn, a session's role). */
  roleByArn(arn: string): IamRole | undefined {
    const parts = splitArn(arn);
    if (!parts || parts.service !== 'iam' || parts.account !== this.options.account || !parts.resource.startsWith('role/')) return undefined;
    const path = parts.resource.slice('role'.length, parts.resource.lastIndexOf('/') + 1);
    const role = this.findRoleByName(parts.resource.slice(parts.resource.lastIndexOf('/') + 1));
    return role && role.path === path ? role : undefined;
  }

  listRoles(input: { pathPrefix?: string; marker?: string; maxItems?: number }): Page<IamRole> {
    const roles = this.store.roles.filter((r) => r.path.startsWith(input.pathPrefix ?? '/'));
    return page(roles, (r) => r.name.toLowerCase(), input.marker, input.maxItems);
  }

  deleteRole(name: string): void {
    const role = this.getRole(name);
    if (Object.keys(role.inlinePolicies).length) throw new LocalServiceError('DeleteConflict', 'Cannot delete entity, must delete policies first.', 409);
    if (role.attachedPolicies.length) throw new LocalServiceError('DeleteConflict', 'Cannot delete entity, must detach all policies first.', 409);
    if (this.profiles.some((p) => p.roles.includes(role.name))) throw new LocalServiceError('DeleteConflict', 'Cannot delete entity, must remove roles from instance profile first.', 409);
    this.store.roles = this.store.roles.filter((r) => r !== role);
    this.save();
  }

  updateAssumeRolePolicy(name: string, document: string): void {
    const role = this.getRole(name);
    this.checkTrustPolicy(role.name, document);
    role.trustPolicy = document;
    this.save();
  }

  putRolePolicy(roleName: string, policyName: string, document: string): void {
    const role = this.getRole(roleName);
    this.checkPermissionsPolicy(policyName, document);
    const total = Object.entries(role.inlinePolicies).reduce((sum, [name, doc]) => sum + (name === policyName ? 0 : sizeOf(doc)), sizeOf(document));
    if (total > IAM_QUOTAS.inlinePoliciesPerRole) throw new LocalServiceError('LimitExceeded', `Maximum policy size of ${IAM_QUOTAS.inlinePoliciesPerRole} bytes exceeded for role ${role.name}`, 409);
    role.inlinePolicies[policyName] = document;
    this.save();
  }

  getRolePolicy(roleName: string, policyName: string): { roleName: string; policyName: string; document: string } {
    const role = this.getRole(roleName);
    const document = Object.hasOwn(role.inlinePolicies, policyName) ? role.inlinePolicies[policyName] : undefined;
    if (document === undefined) throw noSuchEntity(`The role policy with name ${policyName} cannot be found.`);
    return { roleName: role.name, policyName, document };
  }

  listRolePolicies(roleName: string, input: { marker?: string; maxItems?: number }): Page<string> {
    return page(Object.keys(this.getRole(roleName).inlinePolicies), (name) => name, input.marker, input.maxItems);
  }

  deleteRolePolicy(roleName: string, policyName: string): void {
    const role = this.getRole(roleName);
    if (!Object.hasOwn(role.inlinePolicies, policyName)) throw noSuchEntity(`The role policy with name ${policyName} cannot be found.`);
    delete role.inlinePolicies[policyName];
    this.save();
  }

  // ---- managed policies -------------------------------------------------------------------------------

  createPolicy(input: { name: string; document: string; path?: string; description?: string; tags?: Tag[] }): IamPolicy {
    const path = input.path ?? '/';
    if (this.store.policies.some((p) => p.name.toLowerCase() === input.name.toLowerCase())) {
      throw new LocalServiceError('EntityAlreadyExists', `A policy called ${input.name} already exists. Duplicate names are not allowed.`, 409);
    }
    if (sizeOf(input.document) > IAM_QUOTAS.managedPolicy) throw new LocalServiceError('LimitExceeded', `Cannot exceed quota for PolicySize: ${IAM_QUOTAS.managedPolicy}`, 409);
    this.checkPermissionsPolicy(input.name, input.document);
    checkTags(input.tags ?? []);
    const created = this.now();
    const policy: IamPolicy = { name: input.name, path, id: uniqueId('ANPA'), created, updated: created, ...(input.description ? { description: input.description } : {}), document: input.document, tags: input.tags ?? [] };
    this.store.policies.push(policy);
    this.save();
    return policy;
  }

  getPolicy(arn: string): IamPolicy {
    const policy = this.store.policies.find((p) => this.policyArn(p) === arn);
    if (!policy) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
    return policy;
  }

  getPolicyVersion(arn: string, versionId: string): { document: string; versionId: string; isDefaultVersion: boolean; created: number } {
    const policy = this.getPolicy(arn);
    if (versionId !== 'v1') throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`);
    return { document: policy.document, versionId, isDefaultVersion: true, created: policy.created };
  }

  /** How many roles the policy is attached to. */
  attachmentCount(arn: string): number {
    return this.store.roles.filter((r) => r.attachedPolicies.includes(arn)).length;
  }

  attachRolePolicy(roleName: string, arn: string): void {
    const role = this.getRole(roleName);
    this.getPolicy(arn);
    if (role.attachedPolicies.includes(arn)) return;
    if (role.attachedPolicies.length >= IAM_QUOTAS.managedPoliciesPerRole) throw new LocalServiceError('LimitExceeded', `Cannot exceed quota for PoliciesPerRole: ${IAM_QUOTAS.managedPoliciesPerRole}`, 409);
    role.attachedPolicies.push(arn);
    this.save();
  }

  detachRolePolicy(roleName: string, arn: string): void {
    const role = this.getRole(roleName);
    if (!role.attachedPolicies.includes(arn)) throw noSuchEntity(`Policy ${arn} was not found.`);
    role.attachedPolicies = role.attachedPolicies.filter((a) => a !== arn);
    this.save();
  }

  listAttachedRolePolicies(roleName: string, input: { pathPrefix?: string; marker?: string; maxItems?: number }): Page<{ name: string; arn: string }> {
    const attached = this.getRole(roleName)
      .attachedPolicies.map((arn) => this.getPolicy(arn))
      .filter((p) => p.path.startsWith(input.pathPrefix ?? '/'))
      .map((p) => ({ name: p.name, arn: this.policyArn(p) }));
    return page(attached, (p) => p.name.toLowerCase(), input.marker, input.maxItems);
  }

  // ---- instance profiles -----------------------------------------------------------------------------

  instanceProfileArn(profile: Pick<IamInstanceProfile, 'path' | 'name'>): string {
    return `arn:${this.options.partition}:iam::${this.options.account}:instance-profile${profile.path}${profile.name}`;
  }

  createInstanceProfile(input: { name: string; path?: string; tags?: Tag[] }): IamInstanceProfile {
    if (this.findInstanceProfile(input.name)) throw new LocalServiceError('EntityAlreadyExists', `Instance Profile ${input.name} already exists.`, 409);
    checkTags(input.tags ?? []);
    const profile: IamInstanceProfile = { name: input.name, path: input.path ?? '/', id: uniqueId('AIPA'), created: this.now(), roles: [], tags: input.tags ?? [] };
    this.profiles.push(profile);
    this.save();
    return profile;
  }

  getInstanceProfile(name: string): IamInstanceProfile {
    const profile = this.findInstanceProfile(name);
    if (!profile) throw noSuchEntity(`Instance Profile ${name} cannot be found.`);
    return profile;
  }

  deleteInstanceProfile(name: string): void {
    const profile = this.getInstanceProfile(name);
    if (profile.roles.length) throw new LocalServiceError('DeleteConflict', 'Cannot delete entity, must remove roles from instance profile first.', 409);
    this.store.instanceProfiles = this.profiles.filter((p) => p !== profile);
    this.save();
  }

  addRoleToInstanceProfile(profileName: string, roleName: string): void {
    const profile = this.getInstanceProfile(profileName);
    const role = this.getRole(roleName);
    if (profile.roles.includes(role.name)) throw new LocalServiceError('EntityAlreadyExists', `Role ${role.name} is already in Instance Profile ${profile.name}.`, 409);
    if (profile.roles.length >= 1) throw new LocalServiceError('LimitExceeded', 'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1', 409);
    profile.roles.push(role.name);
    this.save();
  }

  removeRoleFromInstanceProfile(profileName: string, roleName: string): void {
    const profile = this.getInstanceProfile(profileName);
    const role = this.findRoleByName(roleName);
    if (!role || !profile.roles.includes(role.name)) throw noSuchEntity(`The role with name ${roleName} cannot be found in Instance Profile ${profile.name}.`);
    profile.roles = profile.roles.filter((r) => r !== role.name);
    this.save();
  }

  /** The roles of a profile that still exist (IAM lists what the profile holds now). */
  rolesOf(profile: IamInstanceProfile): IamRole[] {
    return profile.roles.map((name) => this.findRoleByName(name)).filter((r): r is IamRole => r !== undefined);
  }

  listInstanceProfiles(input: { pathPrefix?: string; marker?: string; maxItems?: number }): Page<IamInstanceProfile> {
    return page(this.profiles.filter((p) => p.path.startsWith(input.pathPrefix ?? '/')), (p) => p.name.toLowerCase(), input.marker, input.maxItems);
  }

  listInstanceProfilesForRole(roleName: string, input: { marker?: string; maxItems?: number }): Page<IamInstanceProfile> {
    const role = this.getRole(roleName);
    return page(this.profiles.filter((p) => p.roles.includes(role.name)), (p) => p.name.toLowerCase(), input.marker, input.maxItems);
  }

  /** The role EC2 gives an instance launched with the profile `name`, if the profile exists and holds one (the local EMR's nodes). */
  instanceProfileRole(name: string): IamRole | undefined {
    const profile = this.findInstanceProfile(name);
    return profile ? this.rolesOf(profile)[0] : undefined;
  }

  /** An instance profile by name, whatever its case. */
  findInstanceProfile(name: string): IamInstanceProfile | undefined {
    const lower = name.toLowerCase();
    return this.profiles.find((p) => p.name.toLowerCase() === lower);
  }

  private get profiles(): IamInstanceProfile[] {
    return (this.store.instanceProfiles ??= []);
  }

  // ---- for STS ----------------------------------------------------------------------------------------

  /** The role's trust policy, compiled (it was checked when written). */
  trustPolicyOf(role: IamRole): CompiledPolicy {
    return this.compile(trustPolicyName(role.name), role.trustPolicy, 'resource');
  }

  /** The role's permissions: its inline policies and the managed policies attached to it, compiled. */
  permissionsOf(role: IamRole): CompiledPolicy[] {
    return [
      ...Object.entries(role.inlinePolicies).map(([name, document]) => this.compile(name, document, 'identity')),
      ...role.attachedPolicies.map((arn) => this.getPolicy(arn)).map((p) => this.compile(p.name, p.document, 'identity')),
    ];
  }

  // ---- seeding (iam-seed.ts) --------------------------------------------------------------------------

  seededDocument(key: string): string | undefined {
    return Object.hasOwn(this.store.seeded, key) ? this.store.seeded[key] : undefined;
  }

  markSeeded(key: string, document: string): void {
    this.store.seeded[key] = document;
    this.save();
  }

  // ---- checks -----------------------------------------------------------------------------------------

  /** A role by name, whatever its case (IAM's names are case-insensitive). */
  findRoleByName(name: string): IamRole | undefined {
    const lower = name.toLowerCase();
    return this.store.roles.find((r) => r.name.toLowerCase() === lower);
  }

  private compile(name: string, document: string, kind: PolicyKind): CompiledPolicy {
    const key = `${kind}\n${name}\n${document}`;
    let compiled = this.compiled.get(key);
    if (!compiled) {
      compiled = compilePolicy(name, JSON.parse(document), kind);
      this.compiled.set(key, compiled);
    }
    return compiled;
  }

  /** A role trust policy as IAM accepts one: STS actions only, a Principal, no Resource, principals that exist. */
  private checkTrustPolicy(roleName: string, document: string): void {
    if (sizeOf(document) > IAM_QUOTAS.trustPolicy) throw new LocalServiceError('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${IAM_QUOTAS.trustPolicy}`, 409);
    const statements = statementsOf(document);
    for (const s of statements) {
      if (s.Resource !== undefined || s.NotResource !== undefined) throw malformed(`Has prohibited field ${s.Resource !== undefined ? 'Resource' : 'NotResource'}`);
      // "You cannot use the NotPrincipal element in ... an IAM role trust policy" (IAM User Guide, NotPrincipal).
      if (s.NotPrincipal !== undefined) throw malformed('Has prohibited field NotPrincipal');
      if (s.Principal === undefined) throw malformed('Missing required field Principal');
      const actions = [s.Action ?? s.NotAction ?? []].flat();
      if (actions.some((a) => typeof a !== 'string' || !a.toLowerCase().startsWith('sts:'))) throw malformed('AssumeRole policy may only specify STS AssumeRole actions.');
    }
    this.compileChecked(trustPolicyName(roleName), document, 'resource');
    for (const s of statements) {
      const principal = s.Principal;
      const aws = typeof principal === 'object' && principal !== null ? (principal as Record<string, unknown>).AWS : undefined;
      for (const value of [aws ?? []].flat()) {
        // IAM resolves a principal of its own account when the policy is saved: a role that does not exist is refused.
        if (typeof value === 'string' && this.namesMissingRole(value)) throw malformed(`Invalid principal in policy: "AWS":"${value}"`);
      }
    }
  }

  private checkPermissionsPolicy(name: string, document: string): void {
    if (statementsOf(document).some((s) => s.Principal !== undefined || s.NotPrincipal !== undefined)) throw malformed('Policy document should not specify a principal.');
    this.compileChecked(name, document, 'identity');
  }

  /** Compiles (and so caches) a document being written; its grammar errors as MalformedPolicyDocument. */
  private compileChecked(name: string, document: string, kind: PolicyKind): void {
    try {
      this.compile(name, document, kind);
    } catch (error) {
      if (!(error instanceof PolicyCompileError)) throw error;
      throw malformed(error.issues.map((i) => `${formatPath(i.path) || 'the document'}: ${i.message}`).join('; '));
    }
  }

  private namesMissingRole(arn: string): boolean {
    const parts = splitArn(arn);
    return parts !== undefined && parts.service === 'iam' && parts.account === this.options.account && parts.resource.startsWith('role/') && !this.roleByArn(arn);
  }

  private load(): IamStore {
    const parsed = readPrivateJson(this.file) as Partial<IamStore> | null | undefined;
    if (parsed === undefined) return { version: 1, roles: [], policies: [], instanceProfiles: [], seeded: {} };
    if (parsed?.version !== 1 || !Array.isArray(parsed.roles) || !Array.isArray(parsed.policies) || typeof parsed.seeded !== 'object' || parsed.seeded === null) {
      throw new Error(`${this.file} is not a local IAM store (version 1): move it away to start with the seeded roles only`);
    }
    if (parsed.instanceProfiles !== undefined && !Array.isArray(parsed.instanceProfiles)) throw new Error(`${this.file}: instanceProfiles is not a list: move the file away to start with the seeded roles only`);
    return { version: 1, roles: parsed.roles, policies: parsed.policies, instanceProfiles: parsed.instanceProfiles ?? [], seeded: parsed.seeded };
  }

  private save(): void {
    writePrivateJson(this.file, this.store);
  }
}

const trustPolicyName = (roleName: string): string => `${roleName} trust policy`;

/** The statements of a policy document (MalformedPolicyDocument if it is not JSON with statements). */
function statementsOf(document: string): Record<string, unknown>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw malformed('Syntax errors in policy.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw malformed('Syntax errors in policy.');
  const statement = (parsed as Record<string, unknown>).Statement;
  const list: unknown[] = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  return list.filter((s): s is Record<string, unknown> => typeof s === 'object' && s !== null && !Array.isArray(s));
}

function checkTags(tags: readonly Tag[]): void {
  if (tags.length > 50) throw new LocalServiceError('LimitExceeded', 'Cannot exceed quota for TagsPerRole: 50', 409);
  const keys = tags.map((t) => t.Key.toLowerCase());
  if (new Set(keys).size !== keys.length) throw new LocalServiceError('InvalidInput', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
}

/** One page of `items` in the order of `key`, from the item `marker` names (IAM's Marker / MaxItems, 100 by default). */
function page<T>(items: readonly T[], key: (item: T) => string, marker: string | undefined, maxItems = 100): Page<T> {
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  let start = 0;
  if (marker !== undefined) {
    const from = Buffer.from(marker, 'base64url').toString('utf8');
    start = sorted.findIndex((item) => key(item) >= from);
    if (start < 0) start = sorted.length;
  }
  const slice = sorted.slice(start, start + maxItems);
  const next = sorted[start + maxItems];
  return next === undefined ? { items: slice, isTruncated: false } : { items: slice, isTruncated: true, marker: Buffer.from(key(next), 'utf8').toString('base64url') };
}
