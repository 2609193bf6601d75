/**
 * The POST /jobs body: its zod schema (also the source of the OpenAPI document, so only constructs that
 * z.toJSONSchema renders, no transforms) and `parseJobRequest`, which turns every problem into a FieldIssue
 * with a precise message that names the limit. Every object is strict: an unknown field is an error, not ignored.
 */
import { PRIORITY } from './queue';
import * as z from '../util/zod';
import { CLUSTER_ID, clusterIdProblem, EXAMPLE_CLUSTER_ID, EXAMPLE_ROLE_ARN, ID_LIMITS, ROLE_ARN, roleArnProblem } from '../identifiers';
import { ACTIONS_ON_FAILURE, DEFAULT_ACTION_ON_FAILURE, STEP_TYPES } from './step-rules';
import { retryPolicySchema, RETRY_LIMITS } from './retry';
import { caseOnlyDuplicateMessage, caseOnlyDuplicates, describeValue, lengthOf, quote, typeName, validate } from '../util/validation';

/** EMR's and IAM's limits (API reference), and the gateway's own, in one place. Lengths count Unicode code points, as zod does. */
export const LIMITS = {
  ...ID_LIMITS,
  /** StepConfig.Name. */
  stepNameMaxLength: 256,
  /** The gateway's own bounds on `step.args`. */
  maxArguments: 1000,
  argumentMaxLength: 10_240,
  argumentsTotalMaxLength: 102_400,
  timeoutSecondsMin: 10,
  timeoutSecondsMax: 604_800,
  /** AWS tagging limits. */
  maxTags: 50,
  tagKeyMaxLength: 128,
  tagValueMaxLength: 256,
  /** Notifications one request may name. */
  maxNotify: 10,
} as const;

// The rules about steps that are not the body's schema live in step-rules.ts, where the configuration's validation
// (in every function) gets them without this schema; they are part of this module's interface too.
export { ACTIONS_ON_FAILURE, actionOnFailureProblem, DEFAULT_ACTION_ON_FAILURE, runtimeRolesProblem, STEP_TYPES, type ActionOnFailure } from './step-rules';

// ---------------------------------------------------------------------------------------------------------------
// Patterns. Each is the one definition of what is valid; the *Problem functions below only explain a failure.

/** A whole-string pattern from a fragment (fragments are shared: the role ARN embeds the path and name). */
const whole = (fragment: string, flags?: string) => new RegExp(`^${fragment}$`, flags);

/** C0 controls, DEL and C1 controls; arguments may keep tab and newline (multi-line `bash -c` scripts). */
const CONTROL_CHARS = '\\x00-\\x1F\\x7F-\\x9F';
const CONTROL_CHARS_BUT_TAB_LF = '\\x00-\\x08\\x0B-\\x1F\\x7F-\\x9F';
const NO_CONTROL_CHARS = whole(`[^${CONTROL_CHARS}]*`);
const NO_CONTROL_CHARS_BUT_TAB_LF = whole(`[^${CONTROL_CHARS_BUT_TAB_LF}]*`);
const NOT_BLANK = /\S/;
const S3_BUCKET_FRAGMENT = '[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]';
const S3_BUCKET = whole(S3_BUCKET_FRAGMENT);
/** A file EMR reads: `s3://bucket/key` or an absolute path. Either way it cannot start with `-` and be taken for an option. */
const LOCATION = whole(`(?:s3://${S3_BUCKET_FRAGMENT}/|/)[^${CONTROL_CHARS}]+`);
const JAVA_CLASS = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;
const TAG_CHAR_CLASS = '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]';
const TAG_CHARS = whole(`${TAG_CHAR_CLASS}*`, 'u');
const TAG_CHAR = whole(TAG_CHAR_CLASS, 'u');
/** A configured notification's name (config/schema.ts nameOf). */
const NOTIFICATION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
// `aws:` in any case is reserved for AWS's own tags.
const NOT_AWS_PREFIX = /^(?![aA][wW][sS]:)/;

// ---------------------------------------------------------------------------------------------------------------
// Message helpers.

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function controlCharProblem(value: unknown, chars: string, allowed: string): string {
  const m = typeof value === 'string' ? new RegExp(`[${chars}]`).exec(value) : null;
  const found = m ? ` (${codePoint(m[0])} at offset ${m.index})` : '';
  return `must not contain control characters${found}; ${allowed}`;
}

const noControlChars = (value: unknown) => controlCharProblem(value, CONTROL_CHARS, 'none are allowed');
const noControlCharsButTabLf = (value: unknown) => controlCharProblem(value, CONTROL_CHARS_BUT_TAB_LF, 'only tab and newline are allowed');

function tooLong(what: string, max: number) {
  return (iss: { input?: unknown }) => `${what} must be at most ${max} characters (got ${typeof iss.input === 'string' ? lengthOf(iss.input) : '?'})`;
}

function tagCharsProblem(value: unknown): string {
  const bad = typeof value === 'string' ? Array.from(value).find((ch) => !TAG_CHAR.test(ch)) : undefined;
  const found = bad === undefined ? '' : ` (found ${/[\x21-\x7E]/.test(bad) ? quote(bad) : codePoint(bad)})`;
  return `may contain only letters, digits, spaces and _ . : / = + - @${found}`;
}

/** Why `value` is not a safe `s3://bucket/key` URI or absolute path, or undefined if it is one. */
function locationProblem(value: string): string | undefined {
  if (value.startsWith('-')) return 'must not start with "-": it would be read as an option';
  if (!NO_CONTROL_CHARS.test(value)) return noControlChars(value);
  if (value === 'command-runner.jar') return `command-runner.jar is EMR's built-in runner: use a step of type "command" instead`;
  if (value.startsWith('s3://')) {
    const [bucket = '', ...key] = value.slice('s3://'.length).split('/');
    if (!S3_BUCKET.test(bucket)) {
      return `invalid S3 bucket name ${quote(bucket)}: 3 to 63 characters of a-z 0-9 . -, starting and ending with a letter or digit`;
    }
    if (key.join('/') === '') return 'must name an object: s3://bucket/key';
    return undefined;
  }
  if (value.startsWith('/')) return value.length > 1 ? undefined : 'must name a file, not the root directory';
  return `must be an s3://bucket/key URI or an absolute path (got ${quote(value)})`;
}

/** Wraps a *Problem function as a zod error function; the fallback only shows if the pattern and the function disagree. */
function explain(problem: (value: string) => string | undefined, fallback: string) {
  return (iss: { input?: unknown }) => (typeof iss.input === 'string' ? problem(iss.input) : undefined) ?? fallback;
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas.

/** A strict object whose unknown-field message lists the fields it does have. */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  const fields = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') return `unknown field (${what} has: ${fields})`;
      if (iss.code === 'invalid_type') {
        return iss.input === undefined ? `${what} is required` : `${what} must be a JSON object (got ${typeName(iss.input)})`;
      }
      return undefined;
    },
  });
}

/** A request's `clusterId`: its messages say what an EMR cluster id looks like (POST /jobs, POST /sessions). */
export function clusterIdField() {
  return z.described(
    z.string().check(z.regex(CLUSTER_ID, { error: explain(clusterIdProblem, `must be an EMR cluster id such as ${EXAMPLE_CLUSTER_ID}`) })),
    `The EMR cluster id: "j-" and 1 to ${LIMITS.clusterIdMaxSuffixLength} of 0-9 A-Z, e.g. ${EXAMPLE_CLUSTER_ID}.`,
  );
}

/** A request's `executionRoleArn`, as EMR takes it (POST /jobs, POST /sessions). */
export function executionRoleArnField(description: string) {
  const explainRoleArn = explain(roleArnProblem, `must be an IAM role ARN such as ${EXAMPLE_ROLE_ARN}`);
  // One explanation for every check, so an ARN breaking several gets one message (identical ones are merged).
  return z.described(
    z
      .string({ error: (iss) => (iss.code === 'invalid_type' ? undefined : explainRoleArn(iss)) })
      .check(z.minLength(LIMITS.roleArnMinLength), z.maxLength(LIMITS.roleArnMaxLength), z.regex(ROLE_ARN)),
    description,
  );
}

/**
 * The body's schema, built in a function called once below (marked pure): a function that validates the
 * configuration but no request body imports this module's rules without keeping the schema in its bundle.
 */
function buildJobRequestSchema() {
  const argument = z.string().check(
    z.maxLength(LIMITS.argumentMaxLength),
    z.regex(NO_CONTROL_CHARS_BUT_TAB_LF, { error: (iss) => noControlCharsButTabLf(iss.input) }),
  );

  function totalLength(args: readonly string[]): number {
    return args.reduce((sum, arg) => sum + lengthOf(arg), 0);
  }

  /** An argv array: EMR passes each element to the program as one argument, and it is never joined into a shell line. */
  function argumentList(minimum: 0 | 1, description: string) {
    return z.described(
      z
        .array(argument, {
          error: (iss) =>
            iss.input === undefined ? undefined : `must be an array of strings, one per argument, not a command line (got ${typeName(iss.input)})`,
        })
        .check(
          z.minLength(minimum, { error: `at least ${minimum} argument is required` }),
          z.maxLength(LIMITS.maxArguments, { error: (iss) => `at most ${LIMITS.maxArguments} arguments (got ${(iss.input as unknown[]).length})` }),
          z.refine((args) => totalLength(args) <= LIMITS.argumentsTotalMaxLength, {
            error: (iss) =>
              `all arguments together must be at most ${LIMITS.argumentsTotalMaxLength} characters (got ${totalLength(iss.input as string[])})`,
          }),
        ),
      `${description} One string per argument (an argv array, never a shell line): at most ${LIMITS.maxArguments}, ` +
        `each at most ${LIMITS.argumentMaxLength} characters, ${LIMITS.argumentsTotalMaxLength} in all; no control characters but tab and newline.`,
    );
  }

  const location = (what: string) =>
    z.described(
      z.string().check(z.maxLength(LIMITS.argumentMaxLength), z.regex(LOCATION, { error: explain(locationProblem, 'must be an s3://bucket/key URI or an absolute path') })),
      `${what}: an s3://bucket/key URI or an absolute path on the cluster (never starting with "-").`,
    );

  const sparkStep = z.described(
    strictObject(
      {
        type: z.literal('spark'),
        args: argumentList(1, 'spark-submit arguments: options, then the application and its arguments.'),
      },
      'a spark step',
    ),
    'spark-submit ARGS... through command-runner.jar.',
  );

  const hiveStep = z.described(
    strictObject(
      {
        type: z.literal('hive'),
        script: location('The Hive script'),
        args: z.optional(argumentList(0, 'Further hive arguments after the script, e.g. ["-d", "INPUT=s3://bucket/in"].')),
      },
      'a hive step',
    ),
    'hive-script --run-hive-script --args -f SCRIPT ARGS... through command-runner.jar.',
  );

  const commandStep = z.described(
    strictObject(
      {
        type: z.literal('command'),
        args: argumentList(1, 'The command and its arguments, e.g. ["bash", "-c", "echo hi"].'),
      },
      'a command step',
    ),
    'Any command through command-runner.jar, arguments exactly as given.',
  );

  const jarStep = z.described(
    strictObject(
      {
        type: z.literal('jar'),
        jar: location('The JAR'),
        mainClass: z.described(
          z.optional(
            z.string().check(
              z.maxLength(LIMITS.argumentMaxLength),
              z.regex(JAVA_CLASS, { error: (iss) => `must be a Java class name such as org.example.Main (got ${describeValue(iss.input)})` }),
            ),
          ),
          "The main class, if the JAR's manifest names none.",
        ),
        args: z.optional(argumentList(0, 'Arguments passed to the main class.')),
      },
      'a jar step',
    ),
    'A custom JAR run by EMR as the step.',
  );

  const step = z.described(
    z.discriminatedUnion('type', [sparkStep, hiveStep, commandStep, jarStep], {
      error: (iss) => {
        const types = STEP_TYPES.join(', ');
        if (iss.code === 'invalid_union') {
          const type: unknown = typeof iss.input === 'object' && iss.input !== null ? (iss.input as { type?: unknown }).type : undefined;
          return type === undefined ? `is required: one of ${types}` : `must be one of ${types} (got ${describeValue(type)})`;
        }
        if (iss.code === 'invalid_type' && iss.input !== undefined) {
          return `must be an object with a "type" of ${types} (got ${typeName(iss.input)})`;
        }
        return undefined;
      },
    }),
    `What to run, by "type": ${STEP_TYPES.join(', ')}.`,
  );

  const timeoutMessage = (iss: { input?: unknown }) =>
    `must be a whole number of seconds from ${LIMITS.timeoutSecondsMin} to ${LIMITS.timeoutSecondsMax} (7 days) (got ${describeValue(iss.input)})`;

  const tagKey = z.string().check(
    z.minLength(1, { error: 'tag key must not be empty' }),
    z.maxLength(LIMITS.tagKeyMaxLength, { error: tooLong('tag key', LIMITS.tagKeyMaxLength) }),
    z.regex(TAG_CHARS, { error: (iss) => `tag key ${tagCharsProblem(iss.input)}` }),
    z.regex(NOT_AWS_PREFIX, { error: 'tag key must not start with "aws:": that prefix is reserved for AWS' }),
  );

  const tagValue = z.string().check(
    z.maxLength(LIMITS.tagValueMaxLength, { error: tooLong('tag value', LIMITS.tagValueMaxLength) }),
    z.regex(TAG_CHARS, { error: (iss) => `tag value ${tagCharsProblem(iss.input)}` }),
  );

  const tagRecord = z.record(tagKey, tagValue, {
    error: (iss) => (iss.input === undefined ? undefined : `must be an object of tag keys to string values (got ${typeName(iss.input)})`),
  });
  const tags = z.withMeta(
    tagRecord.check(
      z.superRefine<z.output<typeof tagRecord>>(
        (valid, ctx) => {
          // Keys that failed tagKey are dropped from `valid` but still count: they are this record's invalid_key issues.
          const count = Object.keys(valid).length + ctx.issues.filter((i) => i.code === 'invalid_key').length;
          if (count > LIMITS.maxTags) ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.maxTags} tags (got ${count})` });
          for (const duplicate of caseOnlyDuplicates(Object.keys(valid))) {
            ctx.addIssue({ code: 'custom', path: [duplicate.key], message: caseOnlyDuplicateMessage(duplicate) });
          }
        },
        // Run even when some keys were invalid, so the count is reported with them, not after they are fixed.
        { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) },
      ),
    ),
    { maxProperties: LIMITS.maxTags },
  );

  return z.described(
    strictObject(
      {
        clusterId: clusterIdField(),
        executionRoleArn: executionRoleArnField(`The IAM runtime role the step runs as: ${EXAMPLE_ROLE_ARN} (the role ARN, not an STS session ARN).`),
        name: z.described(
          z.string().check(
            z.minLength(1, { error: 'must not be empty', abort: true }),
            z.maxLength(LIMITS.stepNameMaxLength),
            z.regex(NO_CONTROL_CHARS, { error: (iss) => noControlChars(iss.input) }),
            z.regex(NOT_BLANK, { error: 'must not be only whitespace' }),
          ),
          `The EMR step name: 1 to ${LIMITS.stepNameMaxLength} characters, no control characters, not only whitespace.`,
        ),
        step,
        actionOnFailure: z.described(
          z._default(
            z.enum(ACTIONS_ON_FAILURE, { error: (iss) => `must be one of ${ACTIONS_ON_FAILURE.join(', ')} (got ${describeValue(iss.input)})` }),
            DEFAULT_ACTION_ON_FAILURE,
          ),
          `What EMR does when the step fails; default ${DEFAULT_ACTION_ON_FAILURE}. Each cluster allows only the values its configuration lists ` +
            `(by default ${DEFAULT_ACTION_ON_FAILURE} alone: a failing CANCEL_AND_WAIT step cancels every pending step on the cluster); another is a 400.`,
        ),
        timeoutSeconds: z.described(
          z.optional(z.number({ error: timeoutMessage }).check(z.int(), z.gte(LIMITS.timeoutSecondsMin), z.lte(LIMITS.timeoutSecondsMax))),
          `Cancel the step after this many seconds (${LIMITS.timeoutSecondsMin} to ${LIMITS.timeoutSecondsMax}); the job ends TIMED_OUT.`,
        ),
        retry: z.described(
          z.optional(retryPolicySchema()),
          `Run the step again when an attempt ends in one of the states \`on\` names: each attempt a new EMR step under the same decision, ` +
            `at most ${RETRY_LIMITS.maxAttempts} attempts in all; the job ends with the last attempt's outcome; a cancel or the deadline ends the retries. ` +
            `Without it, the cluster's defaultRetry, if configured, applies (maxAttempts 1 opts out). Not with a TERMINATE_CLUSTER or TERMINATE_JOB_FLOW actionOnFailure.`,
        ),
        priority: z.described(
          z.optional(z.number({ error: (iss) => `must be a whole number from ${PRIORITY.min} to ${PRIORITY.max} (got ${describeValue(iss.input)})` }).check(z.int(), z.gte(PRIORITY.min), z.lte(PRIORITY.max))),
          `Its place in the cluster's queue when the cluster (or the caller's group) is at capacity: ${PRIORITY.min} to ${PRIORITY.max}, higher first; default ${PRIORITY.default}. ` +
            'Fair sharing between groups comes first; a policy may limit it (condition key emr-gateway:Priority).',
        ),
        tags: z.described(
          z.optional(tags),
          `Job tags: at most ${LIMITS.maxTags}; keys 1 to ${LIMITS.tagKeyMaxLength} characters, not starting with "aws:", ` +
            `no two differing only in case (IAM compares tag keys case-insensitively); ` +
            `values 0 to ${LIMITS.tagValueMaxLength}; letters, digits, spaces and _ . : / = + - @.`,
        ),
        notify: z.described(
          z.optional(
            z.array(
              z.string({ error: (iss) => `must be a notification name (got ${typeName(iss.input)})` }).check(
                z.regex(NOTIFICATION_NAME, { error: 'notification names are 1-64 letters, digits, \'_\', \'.\' or \'-\', starting with a letter or digit' }),
              ),
              { error: (iss) => (iss.input === undefined ? undefined : `must be an array of notification names (got ${typeName(iss.input)})`) },
            ).check(
              z.maxLength(LIMITS.maxNotify, { error: `at most ${LIMITS.maxNotify} notifications` }),
              z.superRefine((names, ctx) => {
                const seen = new Set<string>();
                names.forEach((n, i) => {
                  if (seen.has(n)) ctx.addIssue({ code: 'custom', path: [i], message: `${quote(n)} is named twice` });
                  seen.add(n);
                });
              }),
            ),
          ),
          `Notifications to send for this job, by their configured names (at most ${LIMITS.maxNotify}): the policy decides which a caller may ask for ` +
            '(condition key emr-gateway:Notify); the configuration says at which states each is sent, and where.',
        ),
      },
      'the request body',
    ),
    'POST /jobs: submit one EMR step under an IAM runtime role.',
  );
}

export const jobRequestSchema = /* @__PURE__ */ buildJobRequestSchema();

export type JobRequest = z.output<typeof jobRequestSchema>;
/** The body as sent, before defaults (actionOnFailure is optional). */
export type JobRequestInput = z.input<typeof jobRequestSchema>;
export type JobStep = JobRequest['step'];
export type StepType = JobStep['type'];

// ---------------------------------------------------------------------------------------------------------------
// Parsing.

/** Validates a POST /jobs body (already JSON-parsed). Throws ValidationError listing every problem, never anything else. */
export function parseJobRequest(body: unknown): JobRequest {
  return validate(jobRequestSchema, body);
}
