-- Issue 15 §5.6: size + mtime miss an edit that keeps both (a tool that restores the mtime, a
-- same-size rewrite within the clock's resolution). Backup tools also compare the inode change
-- time and the inode number; so does reconciliation now. NULL: not seen since this migration
-- (treated as unchanged and filled in on the next scan, so an upgrade re-reads nothing).
ALTER TABLE photos ADD COLUMN ctime_ms INTEGER;
ALTER TABLE photos ADD COLUMN inode INTEGER;

-- Held photos (missing_since set) are left out of every search; a partial index keeps finding them
-- a lookup of the few held rows, not a scan of the library.
CREATE INDEX photos_held ON photos(missing_since) WHERE missing_since IS NOT NULL;
