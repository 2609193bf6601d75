/**
 * What AWS's JSON services answer for input their model refuses, in the wording of their request validation:
 * a missing required member or a value outside an enum is a ValidationException ("1 validation error
 * detected: ..."), a member of the wrong JSON type a SerializationException (the body could not be read as the
 * operation's input). Fields are named as those messages name them (the member's name, first letter lower case).
 */
import { LocalServiceError } from './errors';

const field = (member: string): string => member.charAt(0).toLowerCase() + member.slice(1);

/** `value`, or the ValidationException of a missing required member. */
export function requiredMember<T>(value: T | undefined | null, member: string): T {
  if (value === undefined || value === null) throw new LocalServiceError('ValidationException', `1 validation error detected: Value null at '${field(member)}' failed to satisfy constraint: Member must not be null`);
  return value;
}

/** A list of strings, or undefined if absent; a member of another type cannot be read (SerializationException). */
export function stringList(value: unknown, member: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new LocalServiceError('SerializationException', `${member} must be a list of strings`);
  return value as string[];
}

/** A string member, or undefined if absent (SerializationException for another JSON type). */
export function stringMember(value: unknown, member: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new LocalServiceError('SerializationException', `${member} must be a string`);
  return value;
}

/** Each value one of the enum's (ValidationException, as AWS words it, for any other). */
export function enumMembers<T extends string>(values: readonly string[] | undefined, allowed: readonly T[], member: string): T[] | undefined {
  if (values === undefined) return undefined;
  if (values.every((v) => (allowed as readonly string[]).includes(v))) return values as T[];
  throw new LocalServiceError(
    'ValidationException',
    `1 validation error detected: Value '[${values.join(', ')}]' at '${field(member)}' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${allowed.join(', ')}]]`,
  );
}
