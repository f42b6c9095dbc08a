// Version 4: the rows of a batch (issue 8). Each row keeps its parameters, status, the output file it
// reserved and, once done, that file's sha256 — enough to resume an interrupted batch without
// duplicates and to write a manifest that matches the files. batch_jobs (version 2) gains where the
// batch writes, the key that finds it again on a re-run, and which process is running it.
export const batchRows = `
ALTER TABLE batch_jobs ADD COLUMN resume_key TEXT;
ALTER TABLE batch_jobs ADD COLUMN out_dir TEXT;
ALTER TABLE batch_jobs ADD COLUMN runner TEXT;
ALTER TABLE batch_jobs ADD COLUMN error TEXT;
CREATE INDEX batch_jobs_by_key ON batch_jobs (resume_key, created_at);
CREATE INDEX batch_jobs_by_time ON batch_jobs (created_at);

CREATE TABLE batch_rows (
  batch_id      TEXT NOT NULL REFERENCES batch_jobs(id) ON DELETE CASCADE,
  row_index     INTEGER NOT NULL CHECK (row_index >= 1),
  line          INTEGER NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
  params        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
  error         TEXT,
  output_path   TEXT,
  sha256        TEXT,
  bytes         INTEGER,
  width         INTEGER,
  height        INTEGER,
  generation_id TEXT REFERENCES generations(id) ON DELETE SET NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (batch_id, row_index)
) WITHOUT ROWID;
CREATE INDEX batch_rows_by_status ON batch_rows (batch_id, status, row_index);
`;
