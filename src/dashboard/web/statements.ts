/** A policy statement for people: "team-a statement 2 (Sid DenyProd)", as the CLI says it. */
export const describeRef = (ref: { policy: string; index: number; sid?: string | undefined }): string => `${ref.policy} statement ${ref.index}${ref.sid ? ` (Sid ${ref.sid})` : ''}`;
