-- Smart albums (issue 10 §3): a saved search, run again whenever the album is opened or counted.
-- The album keeps the query the user ran, never vectors or photo ids, so it survives a switch of
-- model and always reflects the library as it is now.

CREATE TABLE albums (
  id         INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,  -- what the sidebar and `leanlens albums show` use
  query      TEXT    NOT NULL,                        -- JSON: the search request as run (text as typed, filters, cut-off, sort)
  model_id   TEXT,                                    -- the model in use when it was saved (not a reference: models come and go)
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
