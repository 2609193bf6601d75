/**
 * A kill -9 of dynalite in the middle of a write, as it leaves the jobs table. dynalite writes an item in steps:
 * the index entries whose keys change are deleted, every index entry of the new item is put, and only then the
 * item itself (db/index.js updateIndexes, then itemDb.put). A process killed in between leaves the indexes torn:
 * - `deletes`: killed after the deletes: the item is as before, its entries under keys that were changing are gone
 *   (a job moving ACCEPTED → SUBMITTED is in neither status's index);
 * - `indexes`: killed after the index writes: the item is as before, the indexes show the new one (ghost entries
 *   under the new keys, e.g. a COMPLETED entry for a RUNNING job; a created job's entries with no item at all).
 * After the tear the "process" is dead: every later write fails (500) until `revive()`, as the next start would.
 * Reads go on working, so a test can look at what a restart would find.
 */
// The default import is the module object itself (not an ES namespace copy): dynalite's actions call
// db.updateIndexes through it, so replacing it here changes what they call.
import dynaliteDb from 'dynalite/db';

export type TearStage = 'deletes' | 'indexes';
type Item = Record<string, unknown>;

export interface Tear {
  /** Tears the next write whose new item matches `match`, at `stage`. */
  next(match: (item: Item) => boolean, stage: TearStage): void;
  /** How many writes were torn. */
  readonly torn: number;
  /** The next start: writes work again. */
  revive(): void;
  /** Puts dynalite back as it was. */
  restore(): void;
}

const killed = () => ({ statusCode: 500, body: { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'the process was killed mid-write (test fault)' } });

/** Installs the fault on dynalite's storage layer (every dynalite in this test file's module registry). */
export function tearDynalite(): Tear {
  const original = dynaliteDb.updateIndexes;
  let armed: { match: (item: Item) => boolean; stage: TearStage } | undefined;
  let dead = false;
  let torn = 0;
  const run = (steps: ((cb: (error?: unknown) => void) => void)[], done: (error?: unknown) => void): void => {
    const [first, ...rest] = steps;
    if (!first) return done();
    first((error) => (error ? done(error) : run(rest, done)));
  };
  dynaliteDb.updateIndexes = (store, table, existingItem, item, cb) => {
    if (dead) return cb(killed());
    if (!armed || !item || !armed.match(item)) return original(store, table, existingItem, item, cb);
    const { stage } = armed;
    armed = undefined;
    const actions = dynaliteDb.getIndexActions(table.GlobalSecondaryIndexes ?? [], existingItem, item, table);
    const index = (name: string) => store.getIndexDb('Global', table.TableName, name);
    const deletes = actions.deletes.map((a) => (next: (error?: unknown) => void) => index(a.index).del(a.key, next));
    const puts = actions.puts.map((a) => (next: (error?: unknown) => void) => index(a.index).put(a.key, a.item, next));
    run(stage === 'deletes' ? deletes : [...deletes, ...puts], (error) => {
      torn++;
      dead = true;
      cb(error ?? killed());
    });
  };
  return {
    next(match, stage) {
      armed = { match, stage };
    },
    get torn() {
      return torn;
    },
    revive() {
      dead = false;
    },
    restore() {
      dynaliteDb.updateIndexes = original;
    },
  };
}
