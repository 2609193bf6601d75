/**
 * What one compilation shares: strings (lower-cased keys, pattern literals), patterns, action and resource
 * matchers, condition comparators, conditions and whole statement bodies, each compiled once however many
 * statements use it. Everything shared is immutable: a compiled object holds no state of the statement or the
 * request that uses it, so sharing cannot change a decision.
 *
 * The tables live as long as the compilation (one PolicyEngine, one compilePolicy call): once it is done they are
 * garbage, and only the shared objects the statements point to remain. No table is global, so an engine that is
 * replaced (a configuration reloaded) takes its patterns with it.
 */
export class CompileCache {
  private readonly strings = new Map<string, string>();
  private readonly tables = new Map<string, Map<string, unknown>>();
  private readonly ids = new Map<object, number>();

  /** The one copy of `text` this compilation keeps (a string equal to it seen first, or `text` itself). */
  string(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    this.strings.set(text, text);
    return text;
  }

  /** The object compiled for `key` in `table`, compiling it with `make` the first time. */
  shared<T extends object>(table: string, key: string, make: () => T): T {
    let entries = this.tables.get(table);
    if (!entries) this.tables.set(table, (entries = new Map<string, unknown>()));
    const known = entries.get(key);
    if (known !== undefined) return known as T;
    const made = make();
    entries.set(key, made);
    return made;
  }

  /** A number naming a shared object within this compilation, to build keys from compiled parts. */
  id(object: object): number {
    let id = this.ids.get(object);
    if (id === undefined) this.ids.set(object, (id = this.ids.size));
    return id;
  }
}
