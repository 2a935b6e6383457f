-- Text in photos (issue 11): what OCR read in each photo, keyed by content hash so a rename or a
-- move keeps it and an edit (new bytes, new hash) reads the photo again. Owned by services/text.

CREATE TABLE photo_text (
  id         INTEGER PRIMARY KEY,                   -- the FTS5 rowid
  hash       TEXT    NOT NULL UNIQUE,               -- photos.hash of the bytes that were read
  state      TEXT    NOT NULL CHECK (state IN ('text', 'none', 'failed')),
  text       TEXT    NOT NULL DEFAULT '',           -- the recognised text, lines joined by \n
  confidence REAL,                                  -- mean word confidence, 0..100
  words      TEXT    NOT NULL DEFAULT '[]',         -- JSON [[text, conf, x0, y0, x1, y1], …], boxes in 0..1 of the displayed photo
  skipped    INTEGER NOT NULL DEFAULT 0,            -- 1: the cheap first step saw no text, the engine never ran
  error      TEXT,                                  -- reason when state = 'failed'
  engine     TEXT    NOT NULL,                      -- engine and languages that read it
  ms         REAL    NOT NULL DEFAULT 0,            -- time spent on this photo
  read_at    INTEGER NOT NULL
);
CREATE INDEX photo_text_state ON photo_text(state);

-- Full-text index over the recognised text (external content: the text is stored once).
CREATE VIRTUAL TABLE photo_text_fts USING fts5(
  text, content = 'photo_text', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER photo_text_ai AFTER INSERT ON photo_text BEGIN
  INSERT INTO photo_text_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER photo_text_ad AFTER DELETE ON photo_text BEGIN
  INSERT INTO photo_text_fts(photo_text_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER photo_text_au AFTER UPDATE ON photo_text BEGIN
  INSERT INTO photo_text_fts(photo_text_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO photo_text_fts(rowid, text) VALUES (new.id, new.text);
END;
-- Every distinct word in the index: fuzzy matching ("invoce" → "invoice") looks words up here.
CREATE VIRTUAL TABLE photo_text_terms USING fts5vocab(photo_text_fts, 'row');

-- Per-folder OCR switch; no row means the default (on for folders named like Screenshots or Scans).
CREATE TABLE text_folders (
  folder_id INTEGER PRIMARY KEY REFERENCES folders(id) ON DELETE CASCADE,
  ocr       INTEGER NOT NULL CHECK (ocr IN (0, 1))
);
