// Key → JSON value settings.
import type { Db } from './database';
import { StoreError, type SettingsStore } from './types';

export class Settings implements SettingsStore {
  constructor(private readonly db: Db) {}

  get<T = unknown>(key: string): T | undefined {
    const row = this.db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get(key);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    if (typeof key !== 'string' || key === '') throw new StoreError('INVALID', 'A setting needs a non-empty key');
    const json = JSON.stringify(value);
    if (json === undefined) throw new StoreError('INVALID', `The setting ${key} has no JSON value`);
    this.db
      .prepare(
        `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      )
      .run(key, json, Date.now());
  }

  delete(key: string): void {
    this.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
  }

  all(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (const row of this.db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings ORDER BY key').all()) {
      result[row.key] = JSON.parse(row.value);
    }
    return result;
  }
}
