-- Issue 15 §5.6: size + mtime miss an edit that keeps both (a tool that restores the mtime, a
-- same-size rewrite within the clock's resolution). Backup tools also compare the inode change
-- time and the inode number; so does reconciliation now. NULL: not seen since this migration
-- (treated as unchanged and filled in on the next scan, so an upgrade re-reads nothing).
ALTER TABLE photos ADD COLUMN ctime_ms INTEGER;
ALTER TABLE photos ADD COLUMN inode INTEGER;
