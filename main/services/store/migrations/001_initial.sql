-- LeanLens schema v1. SQLite is the source of truth; HNSW indexes are derived from `vectors`.

CREATE TABLE folders (
  id             INTEGER PRIMARY KEY,
  path           TEXT    NOT NULL UNIQUE,           -- absolute, real path
  added_at       INTEGER NOT NULL,                  -- ms since epoch
  state          TEXT    NOT NULL DEFAULT 'idle'
                 CHECK (state IN ('idle', 'scanning', 'watching', 'offline', 'held')),
  held_deletions INTEGER NOT NULL DEFAULT 0         -- photos vanished but kept until confirmed
);

CREATE TABLE photos (
  id            INTEGER PRIMARY KEY,                -- also the HNSW label
  folder_id     INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
  path          TEXT    NOT NULL UNIQUE,            -- absolute path
  size          INTEGER NOT NULL,
  mtime_ms      INTEGER NOT NULL,
  hash          TEXT,                               -- content hash; recognises moves/renames
  width         INTEGER,
  height        INTEGER,
  taken_at      INTEGER,                            -- EXIF capture time, else mtime (ms)
  camera        TEXT,
  format        TEXT,
  status        TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'indexed', 'failed')),
  error         TEXT,                               -- reason when status = 'failed'
  missing_since INTEGER,                            -- set while a deletion is held
  updated_at    INTEGER NOT NULL
);
CREATE INDEX photos_folder ON photos(folder_id);
CREATE INDEX photos_hash   ON photos(hash);
CREATE INDEX photos_status ON photos(status);
CREATE INDEX photos_taken  ON photos(taken_at);

CREATE TABLE models (
  id       TEXT    PRIMARY KEY,
  dim      INTEGER NOT NULL,
  added_at INTEGER NOT NULL
);

-- One embedding per (photo, model): several models coexist so the lab can compare them,
-- and a new model's vectors are built while the active one stays searchable.
CREATE TABLE vectors (
  photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
  model_id TEXT    NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  vector   BLOB    NOT NULL,                        -- float32 little-endian, L2-normalised
  PRIMARY KEY (photo_id, model_id)
) WITHOUT ROWID;
CREATE INDEX vectors_model ON vectors(model_id);

-- What the persisted HNSW file for a model should contain; a mismatch means rebuild.
CREATE TABLE ann_state (
  model_id TEXT    PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE,
  count    INTEGER NOT NULL,
  checksum TEXT    NOT NULL,
  saved_at INTEGER NOT NULL
);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL                               -- JSON
);

-- Long-running jobs (downloads, lab runs, variant builds) so they survive restarts.
CREATE TABLE jobs (
  id         INTEGER PRIMARY KEY,
  kind       TEXT    NOT NULL,
  state      TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'paused', 'done', 'failed', 'cancelled')),
  params     TEXT    NOT NULL DEFAULT '{}',         -- JSON
  progress   TEXT    NOT NULL DEFAULT '{}',         -- JSON
  result     TEXT,                                  -- JSON
  error      TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
