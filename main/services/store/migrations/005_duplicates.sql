-- Near-duplicate fingerprints (main/services/duplicates): one per photo, made from the file's
-- content and valid while the photo's content key (photos.hash, else size:mtime) is still the one
-- it was made from; an edited photo gets a new one on the next search for duplicates.
CREATE TABLE duplicate_fingerprints (
  photo_id     INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
  content      TEXT    NOT NULL,                    -- the content key it was made from
  hash_hi      INTEGER NOT NULL,                    -- 64-bit perceptual (DCT) hash, as two uint32
  hash_lo      INTEGER NOT NULL,
  thumb        BLOB    NOT NULL,                    -- 32 × 32 grey thumbnail, row-major
  made_at      INTEGER NOT NULL                     -- ms since epoch
);
