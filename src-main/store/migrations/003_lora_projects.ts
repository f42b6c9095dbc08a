// Version 3: LoRA fine-tune projects (issue 7): the dataset items of a project with their captions
// (edited in the app; the trainer reads the same-name .txt files the app writes from them), and the
// sample images a run made (fixed prompts and seed, at step 0 and every N steps).
export const loraProjects = `
CREATE TABLE lora_dataset_items (
  id           TEXT PRIMARY KEY,
  project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  image_path   TEXT NOT NULL,
  image_sha256 TEXT,
  caption      TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE lora_samples (
  run_id     TEXT NOT NULL REFERENCES lora_runs(id) ON DELETE CASCADE,
  step       INTEGER NOT NULL,
  idx        INTEGER NOT NULL,
  prompt     TEXT NOT NULL,
  seed       INTEGER NOT NULL,
  path       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, step, idx)
) WITHOUT ROWID;
`;
