// Version 2: LoRA fine-tune runs (metrics per step, checkpoints) and batch jobs.
// The trainer (issue 7) and batch generation (issue 8) fill these; they may extend them in later
// migrations.
export const trainingAndBatches = `
CREATE TABLE lora_runs (
  id          TEXT PRIMARY KEY,
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled')),
  base_model  TEXT NOT NULL,
  config      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
  step        INTEGER NOT NULL DEFAULT 0,
  total_steps INTEGER NOT NULL,
  error       TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX lora_runs_by_project ON lora_runs (project_id, created_at);

CREATE TABLE lora_metrics (
  run_id TEXT NOT NULL REFERENCES lora_runs(id) ON DELETE CASCADE,
  step   INTEGER NOT NULL,
  loss   REAL NOT NULL,
  lr     REAL,
  extra  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra)),
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE lora_checkpoints (
  run_id     TEXT NOT NULL REFERENCES lora_runs(id) ON DELETE CASCADE,
  step       INTEGER NOT NULL,
  path       TEXT NOT NULL,
  sha256     TEXT NOT NULL,
  bytes      INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE batch_jobs (
  id         TEXT PRIMARY KEY,
  source     TEXT NOT NULL,
  status     TEXT NOT NULL,
  total      INTEGER NOT NULL DEFAULT 0,
  done       INTEGER NOT NULL DEFAULT 0,
  params     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
`;
