/** Paths inside documents and request bodies, as people read them. */

/** A path inside a document: keys and array indexes. */
export type Path = readonly (string | number)[];

/** `['step', 'args', 3]` → `step.args[3]`; `['tags', 'team']` → `tags.team`; other keys are bracketed: `tags["a b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(segment))) out += out ? `.${String(segment)}` : String(segment);
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}
