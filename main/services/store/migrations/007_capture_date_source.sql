-- Where a photo's capture date came from: 'exif' (the camera's DateTimeOriginal and kin) or 'file'
-- (the file's modification time, when the photo carries no EXIF date), so the UI can say
-- "date from file" instead of presenting a guess as fact. NULL while the photo is not indexed.
ALTER TABLE photos ADD COLUMN taken_at_source TEXT CHECK (taken_at_source IN ('exif', 'file'));

-- Rows indexed before this column: the indexer stored the mtime itself when EXIF had no date,
-- so a capture time equal to the mtime is the file's, anything else came from EXIF.
UPDATE photos SET taken_at_source = CASE WHEN taken_at = mtime_ms THEN 'file' ELSE 'exif' END
WHERE taken_at IS NOT NULL;

-- The timeline's order (newest first, id as tie-break) served by an index, not a sort per page.
CREATE INDEX photos_timeline ON photos(status, taken_at DESC, id DESC);
