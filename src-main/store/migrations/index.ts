// The numbered schema migrations. Migration N brings a database from user_version N-1 to N.
// Append only: never edit a migration that has shipped; add the next number instead.
import { init } from './001_init';
import { trainingAndBatches } from './002_training_batches';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: 'init', sql: init },
  { version: 2, name: 'training and batches', sql: trainingAndBatches },
];

export const LATEST_SCHEMA_VERSION = migrations.length;
