/**
 * The request context a decision is made against: condition keys (case-insensitive, as in IAM) → values.
 * Keys derived from the authenticated principal (aws:PrincipalArn, aws:PrincipalTag/*, aws:SourceIdentity, ...)
 * always win over caller-supplied keys, so a caller cannot claim another identity through the context.
 */
export type ContextValue = string | readonly string[];

export interface RequestContext {
  /** The value of a key (lower-cased name), or undefined when the key is absent. */
  get(key: string): ContextValue | undefined;
  /** A single-valued key's value; undefined when absent or multi-valued (policy variables need one value). */
  single(key: string): string | undefined;
}

export class MapContext implements RequestContext {
  private readonly values = new Map<string, ContextValue>();

  set(key: string, value: ContextValue): this {
    this.values.set(key.toLowerCase(), value);
    return this;
  }
  /** `set` for a key already lower-cased (the engine's own keys, spelt so once). */
  setLowerCased(key: string, value: ContextValue): this {
    this.values.set(key, value);
    return this;
  }
  get(key: string): ContextValue | undefined {
    return this.values.get(key);
  }
  single(key: string): string | undefined {
    const value = this.values.get(key);
    return typeof value === 'string' ? value : undefined;
  }
}

/** The last second formatted, as [epoch second, aws:CurrentTime, aws:EpochTime]: requests come many to a second. */
let lastSecond: [number, string, string] = [NaN, '', ''];

/** The request's time as IAM gives it to policies: aws:CurrentTime (ISO 8601, whole seconds) and aws:EpochTime. */
export function setRequestTime(context: MapContext, now: Date): MapContext {
  const second = Math.floor(now.getTime() / 1000);
  if (second !== lastSecond[0]) lastSecond = [second, now.toISOString().replace(/\.\d{3}Z$/, 'Z'), String(second)];
  return context.setLowerCased('aws:currenttime', lastSecond[1]).setLowerCased('aws:epochtime', lastSecond[2]);
}
