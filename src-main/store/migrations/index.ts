// The numbered schema migrations. Migration N brings a database from user_version N-1 to N.
// Append only: never edit a migration that has shipped; add the next number instead.
import { init } from './001_init';
import { trainingAndBatches } from './002_training_batches';
import { batchRows } from './004_batch_rows';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: 'init', sql: init },
  { version: 2, name: 'training and batches', sql: trainingAndBatches },
  // Number 3 is reserved for the LoRA projects migration (issue 7). Until it lands this empty slot
  // keeps the numbering consecutive; replace it with that migration (no shipped database has run it).
  { version: 3, name: 'reserved for LoRA projects (issue 7)', sql: '' },
  { version: 4, name: 'batch rows', sql: batchRows },
];

export const LATEST_SCHEMA_VERSION = migrations.length;
