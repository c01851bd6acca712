// The journal's schema, versioned with SQLite's PRAGMA user_version. MIGRATIONS[i] takes a database
// from version i to version i + 1; a new schema change is a new entry at the end, never an edit of an
// old one (databases in the field have already run the old ones).
import { pragma, transaction, type Database } from './sqlite.js';

export interface Migration {
  /** The version the database has after this migration. */
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'journal entries and restart budgets',
    sql: `
      -- AUTOINCREMENT: a num is never reused, even after trimming, so "num > last seen" is reliable.
      CREATE TABLE journal (
        num INTEGER PRIMARY KEY AUTOINCREMENT,
        container TEXT NOT NULL,
        kind TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        message TEXT NOT NULL,
        details TEXT -- JSON object or NULL
      );
      CREATE INDEX journal_container_num ON journal (container, num);
      CREATE TABLE budgets (
        container TEXT PRIMARY KEY,
        state TEXT NOT NULL, -- BudgetState as JSON (src/budget/budget.ts)
        updated_at_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'timeline index and the reset log (how a running instance learns of `repairman reset`)',
    sql: `
      CREATE INDEX journal_kind_at ON journal (kind, at_ms);
      -- One row per \`repairman reset NAME\`; a running instance polls seq > last seen. Kept apart from
      -- the journal so trimming (max_historic_entries may even be 0) can never hide a reset.
      CREATE TABLE resets (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        container TEXT NOT NULL,
        at_ms INTEGER NOT NULL
      );
      CREATE INDEX resets_container_seq ON resets (container, seq);
    `,
  },
  {
    version: 3,
    description: 'when the running instance was last alive (the crash look-back of the next run)',
    sql: `
      CREATE TABLE liveness (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_alive_ms INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: 'maintenance pauses (`repairman pause` / `resume`, read by a running instance)',
    sql: `
      -- One row per pause in force; container '*' pauses every container; until_ms NULL: until resumed.
      CREATE TABLE pauses (
        container TEXT PRIMARY KEY,
        until_ms INTEGER,
        at_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    description: 'containers seen stopped or killed on purpose (their exit is never a crash, across restarts of Repairman)',
    sql: `
      -- One row per container name, for the container id the stop was seen on; gone when it starts again or is removed.
      CREATE TABLE deliberate_stops (
        container TEXT PRIMARY KEY,
        container_id TEXT NOT NULL,
        action TEXT NOT NULL, -- 'kill' or 'stop'
        signal TEXT, -- the kill's signal; NULL for a stop
        own INTEGER NOT NULL, -- 1: Repairman's own on_unhealthy stop or kill
        at_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database): number {
  return Number(pragma(db, 'user_version'));
}

/**
 * Runs the migrations the database lacks, each in its own transaction together with its version bump,
 * so a crash mid-way leaves a database at a well-defined version. `upTo` exists for tests (build an
 * old database). Returns the version reached.
 */
export function migrate(db: Database, upTo: number = SCHEMA_VERSION): number {
  let current = schemaVersion(db);
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > upTo) continue;
    transaction(db, () => {
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
    });
    current = m.version;
  }
  return current;
}
