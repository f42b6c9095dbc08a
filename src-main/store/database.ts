// Opening the SQLite database: refuse files from a newer Atelier before touching them, then set
// the connection up (WAL, foreign keys, busy timeout) and apply pending migrations.
import Database from 'better-sqlite3';
import { migrations as allMigrations, type Migration } from './migrations';
import { StoreError } from './types';

export type Db = Database.Database;

const BUSY_TIMEOUT_MS = 5000;

export function openDatabase(dbPath: string, migrations: readonly Migration[] = allMigrations): Db {
  let db: Db;
  try {
    db = new Database(dbPath);
  } catch (cause) {
    throw new StoreError('CORRUPT_DB', `Cannot open the database ${dbPath}: ${(cause as Error).message}`);
  }
  try {
    // Reading the header first: nothing below may write to a database this version does not understand.
    const known = migrations.length;
    let version: number;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
    } catch (cause) {
      throw new StoreError('CORRUPT_DB', `${dbPath} is not a readable Atelier database: ${(cause as Error).message}`);
    }
    if (version > known) {
      throw new StoreError(
        'NEWER_SCHEMA',
        `The database ${dbPath} was written by a newer version of Atelier (schema ${version}; this version knows up to ${known}). ` +
          'Update Atelier to open it; the file was left untouched.',
      );
    }
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk when it returns, matching the fsync'd image files it names.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Applies every migration above the current user_version, each in its own transaction. */
export function migrate(db: Db, migrations: readonly Migration[]): number {
  let version = db.pragma('user_version', { simple: true }) as number;
  for (const migration of migrations) {
    if (migration.version <= version) continue;
    if (migration.version !== version + 1) {
      throw new Error(`Migration ${migration.version} does not follow schema ${version}`);
    }
    // Re-read under the write lock: another process may have migrated meanwhile.
    version = db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current >= migration.version) return current;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
      return migration.version;
    }).immediate();
  }
  return version;
}
