/**
 * zod for the gateway: zod's mini build (`zod/mini`, the same zod v4 package and core as `zod`), whose functions
 * the bundler can tree-shake: a Lambda bundle carries only the schema kinds and checks it uses (~30 KB minified,
 * where the classic `zod` API, whose methods reach every kind, JSON Schema and its JIT compiler, costs ~190 KB).
 * Every schema of src/ is built with it, imported as `import * as z from '../util/zod'` (a namespace import,
 * which esbuild tree-shakes; not 'zod/mini' directly). On top of zod/mini:
 *
 * - English messages: the classic API installs zod's English locale on first use; the mini build leaves the
 *   messages to the application ("Invalid input" for everything otherwise). Installed here, when this module
 *   loads, so before any schema in src/ parses: the messages are the classic API's, word for word.
 * - `parse`/`safeParse` (these, not zod/mini's) fail with a `ZodError` named "ZodError", as the classic API's do;
 *   zod/mini's throw a `$ZodError`. The name is what a Lambda reports as its error type (a workflow task's input).
 * - `described`/`withMeta`: the classic API's `schema.describe(text)` and `schema.meta(data)`.
 */
import { _parse, _safeParse, $constructor, $ZodError, type GlobalMeta } from 'zod/v4/core';
import { config, globalRegistry, locales, type ZodMiniType } from 'zod/mini';

export * from 'zod/mini';

config(locales.en());

/** The classic API's error: a `$ZodError` named "ZodError", an Error (stack, instanceof). */
export type ZodError<T = unknown> = $ZodError<T>;
export const ZodError: $constructor<ZodError> = $constructor(
  'ZodError',
  (inst, issues) => {
    $ZodError.init(inst, issues);
    inst.name = 'ZodError';
  },
  undefined,
  { Parent: Error },
);

/** zod's `parse(schema, input)`, throwing a ZodError. */
export const parse: ReturnType<typeof _parse> = _parse(ZodError);
/** zod's `safeParse(schema, input, params)`, its error a ZodError. */
export const safeParse: ReturnType<typeof _safeParse> = _safeParse(ZodError);

/**
 * The classic API's `schema.describe(text)`: a copy of the schema with the description in the global registry,
 * where z.toJSONSchema finds it (not zod/mini's `describe()` check, which adds a check to the schema).
 */
export function described<T extends ZodMiniType>(schema: T, description: string): T {
  return withMeta(schema, { description });
}

/** The classic API's `schema.meta(data)`: a copy of the schema with `data` in the global registry. */
export function withMeta<T extends ZodMiniType>(schema: T, data: GlobalMeta): T {
  const copy = schema.clone();
  globalRegistry.add(copy, data);
  return copy;
}
