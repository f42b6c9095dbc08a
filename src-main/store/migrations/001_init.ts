// Version 1: the history (generations, their images, tags, favourites, full-text search),
// projects and settings.
export const init = `
CREATE TABLE settings (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL CHECK (json_valid(value)),
  updated_at INTEGER NOT NULL
);

CREATE TABLE projects (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('collection', 'lora')),
  settings   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Content-addressed image files; path is relative to the data folder.
CREATE TABLE assets (
  sha256     TEXT PRIMARY KEY CHECK (length(sha256) = 64),
  path       TEXT NOT NULL UNIQUE,
  bytes      INTEGER NOT NULL,
  width      INTEGER,
  height     INTEGER,
  mime       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- seq is the integer key the full-text index points at (stable across VACUUM); id is the public key.
CREATE TABLE generations (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('t2i', 'edit', 'inpaint', 'variation')),
  prompt          TEXT NOT NULL,
  negative_prompt TEXT NOT NULL DEFAULT '',
  params          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
  seed            INTEGER NOT NULL,
  model_name      TEXT NOT NULL,
  model_hash      TEXT,
  parent_id       TEXT REFERENCES generations(id) ON DELETE SET NULL,
  project_id      TEXT REFERENCES projects(id) ON DELETE SET NULL,
  status          TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  error           TEXT,
  favourite       INTEGER NOT NULL DEFAULT 0 CHECK (favourite IN (0, 1))
);
CREATE INDEX generations_by_time ON generations (created_at, seq);
CREATE INDEX generations_by_parent ON generations (parent_id);
CREATE INDEX generations_by_model ON generations (model_name, created_at);
CREATE INDEX generations_by_project ON generations (project_id);
CREATE INDEX generations_favourites ON generations (created_at) WHERE favourite = 1;

CREATE TABLE generation_assets (
  generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
  asset_sha256  TEXT NOT NULL REFERENCES assets(sha256),
  role          TEXT NOT NULL CHECK (role IN ('output', 'reference', 'mask')),
  position      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (generation_id, role, position)
) WITHOUT ROWID;
CREATE INDEX generation_assets_by_asset ON generation_assets (asset_sha256);

CREATE TABLE tags (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE generation_tags (
  generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
  tag_id        INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  PRIMARY KEY (generation_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX generation_tags_by_tag ON generation_tags (tag_id);

-- Full-text search over prompts, an external-content index kept in step by triggers.
CREATE VIRTUAL TABLE generations_fts USING fts5(
  prompt, negative_prompt,
  content = 'generations', content_rowid = 'seq',
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER generations_fts_insert AFTER INSERT ON generations BEGIN
  INSERT INTO generations_fts (rowid, prompt, negative_prompt) VALUES (new.seq, new.prompt, new.negative_prompt);
END;
CREATE TRIGGER generations_fts_delete AFTER DELETE ON generations BEGIN
  INSERT INTO generations_fts (generations_fts, rowid, prompt, negative_prompt)
    VALUES ('delete', old.seq, old.prompt, old.negative_prompt);
END;
CREATE TRIGGER generations_fts_update AFTER UPDATE OF prompt, negative_prompt ON generations BEGIN
  INSERT INTO generations_fts (generations_fts, rowid, prompt, negative_prompt)
    VALUES ('delete', old.seq, old.prompt, old.negative_prompt);
  INSERT INTO generations_fts (rowid, prompt, negative_prompt) VALUES (new.seq, new.prompt, new.negative_prompt);
END;
`;
