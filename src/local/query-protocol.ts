/**
 * The AWS Query protocol as IAM and STS speak it: a form-encoded POST (`Action=GetRole&Version=2010-05-08&...`,
 * lists as `Tags.member.1.Key`), answered in XML in the service's namespace:
 * `<GetRoleResponse><GetRoleResult>...</GetRoleResult><ResponseMetadata><RequestId>` and errors as
 * `<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>`. Members are checked against
 * the service model's constraints, with AWS's ValidationError wording. The services' domain code never sees XML.
 */
import { randomUUID } from 'node:crypto';
import { LocalServiceError } from './errors';
import { xmlDocument, type XmlNode } from './xml';

/** A member's constraints, as the service model (botocore's service-2.json) gives them. */
export type MemberSpec =
  | { type: 'string'; required?: boolean; min?: number; max?: number; pattern?: string }
  | { type: 'integer'; required?: boolean; min?: number; max?: number };
type MemberValue<S extends MemberSpec> = (S extends { type: 'integer' } ? number : string) | (S extends { required: true } ? never : undefined);
export type Members<S extends Record<string, MemberSpec>> = { [K in keyof S]: MemberValue<S[K]> };

/** One operation: reads its members from the parameters and returns the Result's children (or none). */
export type QueryOperation = (params: URLSearchParams, caller: string | undefined) => XmlNode[] | undefined;

/** A service of the Query protocol: its XML namespace, API version and operations by Action. */
export interface QueryService {
  namespace: string;
  version: string;
  operations: Readonly<Record<string, QueryOperation>>;
}

export interface QueryAnswer {
  status: number;
  body: string;
  requestId: string;
}

const lowerFirst = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

/** The members of `spec` read from `params`; a ValidationError naming every member that breaks its constraints. */
export function readMembers<S extends Record<string, MemberSpec>>(params: URLSearchParams, spec: S): Members<S> {
  const problems: string[] = [];
  const out: Record<string, string | number | undefined> = {};
  for (const [name, member] of Object.entries(spec)) {
    const raw = params.get(name);
    const at = lowerFirst(name);
    if (raw === null) {
      if (member.required) problems.push(`Value null at '${at}' failed to satisfy constraint: Member must not be null`);
      continue;
    }
    if (member.type === 'integer') {
      const value = Number(raw);
      if (!/^-?\d+$/.test(raw)) problems.push(`Value '${raw}' at '${at}' failed to satisfy constraint: Member must be an integer`);
      else if (member.min !== undefined && value < member.min) problems.push(`Value '${raw}' at '${at}' failed to satisfy constraint: Member must have value greater than or equal to ${member.min}`);
      else if (member.max !== undefined && value > member.max) problems.push(`Value '${raw}' at '${at}' failed to satisfy constraint: Member must have value less than or equal to ${member.max}`);
      out[name] = value;
      continue;
    }
    const length = [...raw].length;
    if (member.min !== undefined && length < member.min) problems.push(`Value '${raw}' at '${at}' failed to satisfy constraint: Member must have length greater than or equal to ${member.min}`);
    else if (member.max !== undefined && length > member.max) problems.push(`Value '${raw}' at '${at}' failed to satisfy constraint: Member must have length less than or equal to ${member.max}`);
    else if (member.pattern !== undefined && !new RegExp(`^(?:${member.pattern})$`, 'u').test(raw)) {
      problems.push(`Value '${raw}' at '${at}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${member.pattern}`);
    }
    out[name] = raw;
  }
  if (problems.length) throw new LocalServiceError('ValidationError', `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`);
  return out as Members<S>;
}

/** The values of a list member (`Name.member.1`, `Name.member.2`, ...), in order. */
export function memberList(params: URLSearchParams, name: string): string[] {
  return memberStructs(params, name, ['']).map((s) => s['']!);
}

/** The structures of a list member (`Tags.member.1.Key`, `Tags.member.1.Value`, ...), in order; `['']` reads plain values. */
export function memberStructs<F extends string>(params: URLSearchParams, name: string, fields: readonly F[]): Record<F, string | undefined>[] {
  const prefix = `${name}.member.`;
  const byIndex = new Map<number, Record<string, string>>();
  for (const [key, value] of params) {
    if (!key.startsWith(prefix)) continue;
    const [index = '', ...rest] = key.slice(prefix.length).split('.');
    if (!/^[1-9]\d*$/.test(index)) continue;
    const field = rest.join('.');
    if (!(fields as readonly string[]).includes(field)) continue;
    const entry = byIndex.get(Number(index)) ?? {};
    entry[field] = value;
    byIndex.set(Number(index), entry);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry as Record<F, string | undefined>);
}

/** A list in a Result: `<Name><member>...</member>...</Name>`. */
export const memberNodes = (name: string, items: readonly (string | XmlNode[])[]): XmlNode => [name, items.map((item): XmlNode => ['member', item])];

/** IAM's and STS's times: ISO 8601 in UTC, whole seconds. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Answers one Query request of a service: the operation named by Action, its Result in the service's namespace,
 * or the error it threw (a fault of the emulator itself is a 500 of `InternalFailure`, Type Receiver).
 */
export function answerQuery(service: QueryService, params: URLSearchParams, caller: string | undefined, onFault?: (error: unknown) => void): QueryAnswer {
  const requestId = randomUUID();
  const action = params.get('Action') ?? '';
  try {
    const operation = Object.hasOwn(service.operations, action) ? service.operations[action] : undefined;
    if (!operation) throw new LocalServiceError('InvalidAction', `Could not find operation ${action} for version ${params.get('Version') ?? service.version}`);
    const result = operation(params, caller);
    const nodes: XmlNode[] = [...(result ? [[`${action}Result`, result] as XmlNode] : []), ['ResponseMetadata', [['RequestId', requestId]]]];
    return { status: 200, body: xmlDocument(`${action}Response`, nodes, service.namespace), requestId };
  } catch (error) {
    if (!(error instanceof LocalServiceError)) onFault?.(error);
    const e = LocalServiceError.from(error, 'InternalFailure');
    const nodes: XmlNode[] = [['Error', [['Type', e.status >= 500 ? 'Receiver' : 'Sender'], ['Code', e.type], ['Message', e.message]]], ['RequestId', requestId]];
    return { status: e.status, body: xmlDocument('ErrorResponse', nodes, service.namespace), requestId };
  }
}
