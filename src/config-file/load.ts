/**
 * Reads the configuration file (YAML) for the tools: the CLI, the local stack, packaging. The Lambda functions
 * never do (they load the validated JSON packaging writes), so the YAML parser stays out of their bundles; the
 * domain validates data and never sees YAML. Loads and validates the configuration file. Every problem is reported with the file, the path inside it
 * (and the line, where the YAML tells it) and what is wrong; all problems at once, not the first one only.
 * Policies are compiled here, once, so a configuration that loads can be evaluated without any parsing.
 *
 * The policies are linted here too, and a lint error fails the load like any configuration error: a Deny with
 * a misspelled action must not reach packaging or the local stack. The lint needs every EMR action name, which
 * the Lambda bundles must not carry, so it runs here and not in validateConfig: what packaging ships has
 * been linted on the way.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { lintPolicies, type LintFinding } from '../authz/lint';
import { applyLintMode, validateConfig, type ConfigFinding, type LintMode, type LoadedConfig, type ValidatedConfig } from '../config/validate';
import { formatPath, type Path } from '../util/format';
import { ConfigError } from '../errors';

export interface LoadOptions {
  /** `enforce` (the default): lint errors fail the load; `report`: they come back as findings (policy lint). */
  lint?: LintMode;
}

const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export function loadConfigFile(path: string, options: LoadOptions = {}): ValidatedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file, path: '', message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }], { cause: error });
  }
  return parseConfig(text, file, options);
}

/** Parses configuration text; `file` names it in errors and anchors relative `file:` policy references. */
export function parseConfig(text: string, file: string, options: LoadOptions = {}): ValidatedConfig {
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
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const mode = options.lint ?? 'enforce';
  const validated = validateConfig(data, file, at, mode);
  const policyFindings = lintLoaded(validated).map((f) => locateFinding(f, file, at, policyFileOf(data, file)));
  const { errors, kept } = applyLintMode(policyFindings, mode);
  if (errors.length) throw new ConfigError(errors);
  return { ...validated, findings: [...validated.findings, ...kept] };
}

function lintLoaded({ config, engine }: LoadedConfig): LintFinding[] {
  return lintPolicies({
    policies: engine.policies,
    principals: config.principals,
    partition: config.partition,
    account: config.account,
    region: config.region,
    clusterIds: config.clusters.map((c) => c.id),
    clusterAccounts: Object.fromEntries(config.clusters.flatMap((c) => (c.account ? [[c.id, c.account]] : []))),
  });
}

/** The JSON file of a `file:` policy, by policy name. */
function policyFileOf(data: unknown, file: string): (name: string) => string | undefined {
  const policies = (data as { policies?: Record<string, unknown> } | null)?.policies ?? {};
  return (name) => {
    const entry = policies[name] as { file?: unknown } | undefined;
    return entry && typeof entry.file === 'string' && Object.keys(entry).length === 1 ? resolve(dirname(file), entry.file) : undefined;
  };
}

/** A finding in the YAML at `file:line:col`, or, inside a `file:` policy, at its path in that JSON file (as compile errors are). */
function locateFinding(f: LintFinding, file: string, at: (path: Path) => string, policyFile: (name: string) => string | undefined): ConfigFinding {
  const [section, name] = f.location;
  const json = section === 'policies' && typeof name === 'string' && f.location.length > 2 ? policyFile(name) : undefined;
  const where = json ? { file: json, path: formatPath(f.location.slice(2)) } : { file: `${file}${at(f.location)}`, path: f.path };
  return { severity: f.severity, ...where, message: f.message, ...(f.suggestion === undefined ? {} : { suggestion: f.suggestion }) };
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
