// dynalite's storage layer ships no types: the part test/support/torn-index.ts replaces and calls.
declare module 'dynalite/db' {
  type Item = Record<string, unknown>;
  type Callback = (error?: unknown) => void;
  interface IndexDb {
    put(key: string, item: Item, cb: Callback): void;
    del(key: string, cb: Callback): void;
  }
  interface Store {
    getIndexDb(type: 'Local' | 'Global', tableName: string, indexName: string): IndexDb;
  }
  interface Table {
    TableName: string;
    GlobalSecondaryIndexes?: unknown[];
  }
  interface IndexActions {
    puts: { index: string; key: string; item: Item }[];
    deletes: { index: string; key: string }[];
  }
  interface DynaliteDb {
    /** What PutItem, UpdateItem and DeleteItem do before they write the item itself: the index entries (replaceable: dynalite calls it through this object). */
    updateIndexes: (store: Store, table: Table, existingItem: Item | undefined, item: Item | undefined, cb: Callback) => void;
    getIndexActions(indexes: unknown[], existingItem: Item | undefined, item: Item | undefined, table: Table): IndexActions;
  }
  const db: DynaliteDb;
  export = db;
}
