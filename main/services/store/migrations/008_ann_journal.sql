-- Issue 15 §1: the HNSW file is saved now and then, not after every change, so SQLite keeps a
-- journal of which photos' vectors changed since (added, replaced or removed). Triggers write it,
-- so no writer of `vectors` (indexer, library deletes by cascade, another process) can forget.
-- At open the index replays only the entries after its saved `journal_seq`: a crash or kill -9
-- costs a patch of what changed, never a full rebuild.
CREATE TABLE ann_journal (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id TEXT    NOT NULL,
  photo_id INTEGER NOT NULL
);
CREATE INDEX ann_journal_model ON ann_journal(model_id, seq);

-- The journal position the saved file reflects, and which generation of files holds it.
ALTER TABLE ann_state ADD COLUMN journal_seq INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER vectors_journal_insert AFTER INSERT ON vectors BEGIN
  INSERT INTO ann_journal(model_id, photo_id) VALUES (NEW.model_id, NEW.photo_id);
END;
CREATE TRIGGER vectors_journal_update AFTER UPDATE OF vector ON vectors BEGIN
  INSERT INTO ann_journal(model_id, photo_id) VALUES (NEW.model_id, NEW.photo_id);
END;
CREATE TRIGGER vectors_journal_delete AFTER DELETE ON vectors BEGIN
  INSERT INTO ann_journal(model_id, photo_id) VALUES (OLD.model_id, OLD.photo_id);
END;
