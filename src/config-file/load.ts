/**
 * Reads the configuration file (YAML) for the tools: the CLI, the local stack, packaging. The Lambda functions
 * never do (they load the validated JSON packaging writes), so the YAML parser stays out of their bundles; the
 * domain validates data and never sees YAML. Loads and validates the configuration file. Every problem is reported with the file, the path inside it
 * (and the line, where the YAML tells it) and what is wrong; all problems at once, not the first one only.
 * Policies are compiled here, once, so a configuration that loads can be evaluated without any parsing.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { validateConfig, type LoadedConfig } from '../config/validate';
import type { Path } from '../util/format';
import { ConfigError } from '../errors';

const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export function loadConfigFile(path: string): LoadedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file, path: '', message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }], { cause: error });
  }
  return parseConfig(text, file);
}

/** Parses configuration text; `file` names it in errors and anchors relative `file:` policy references. */
export function parseConfig(text: string, file: string): LoadedConfig {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) throw new ConfigError([{ file, path: '', message: `larger than ${MAX_CONFIG_BYTES} bytes` }]);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const at = (path: Path): string => locate(doc, lines, path);
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { file: pos ? `${file}:${pos.line}:${pos.col}` : file, path: '', message: `YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}` };
      }),
    );
  }
  return validateConfig(doc.toJS({ maxAliasCount: 100 }), file, at);
}

/** `:LINE:COL` of the key at path (or of its nearest existing parent), or '' if unknown. */
function locate(doc: Document, lines: LineCounter, path: Path): string {
  for (let n = path.length; n > 0; n--) {
    const parent = doc.getIn(path.slice(0, n - 1), true);
    const last = path[n - 1];
    // Point at the key of a mapping entry (where an editor should go), or at a sequence item.
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === last) : undefined;
    const node = (pair?.key ?? doc.getIn(path.slice(0, n), true)) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      const pos = lines.linePos(node.range[0]);
      return `:${pos.line}:${pos.col}`;
    }
  }
  return '';
}
