// The numbered schema migrations. Migration N brings a database from user_version N-1 to N.
// Append only: never edit a migration that has shipped; add the next number instead.
import { init } from './001_init';
import { trainingAndBatches } from './002_training_batches';
import { loraProjects } from './003_lora_projects';
import { batchRows } from './004_batch_rows';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: 'init', sql: init },
  { version: 2, name: 'training and batches', sql: trainingAndBatches },
  { version: 3, name: 'LoRA projects: dataset items, captions, samples', sql: loraProjects },
  { version: 4, name: 'batch rows', sql: batchRows },
];

export const LATEST_SCHEMA_VERSION = migrations.length;
