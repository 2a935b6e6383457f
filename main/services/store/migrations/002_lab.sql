-- The model lab (issue 5): benchmark runs and their per-model results.
-- Results are JSON documents (the contract's LabModelResult) so new figures need no migration;
-- the columns are what lists and exports filter and sort on.

CREATE TABLE lab_runs (
  id          INTEGER PRIMARY KEY,
  state       TEXT    NOT NULL CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
  teacher     TEXT    NOT NULL,
  models      TEXT    NOT NULL,                     -- JSON list of model ids, in the order asked for
  labelled    TEXT,                                 -- path of the labelled set, if any
  queries     TEXT    NOT NULL DEFAULT '[]',        -- JSON list of the queries used
  machine     TEXT    NOT NULL,                     -- JSON LabMachine (CPU, cores, OS, provider, threads)
  created_at  INTEGER NOT NULL,
  finished_at INTEGER,
  error       TEXT
);

CREATE TABLE lab_results (
  run_id   INTEGER NOT NULL REFERENCES lab_runs(id) ON DELETE CASCADE,
  model_id TEXT    NOT NULL,
  position INTEGER NOT NULL,                        -- order within the run
  result   TEXT    NOT NULL,                        -- JSON LabModelResult
  PRIMARY KEY (run_id, model_id)
) WITHOUT ROWID;
