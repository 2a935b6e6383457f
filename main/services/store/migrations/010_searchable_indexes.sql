-- Issue 15 §1: a folder or date filter is answered from these partial indexes alone. They hold only
-- photos a search may return (indexed, not held as missing), so counting a filter's photos, or
-- listing their ids, reads no table rows: at 1M photos a year's 100,000 photos count in milliseconds
-- instead of 100,000 row lookups. Queries must spell out both conditions (status = 'indexed' AND
-- missing_since IS NULL) for SQLite to pick them.
CREATE INDEX photos_searchable_folder ON photos(folder_id, taken_at) WHERE status = 'indexed' AND missing_since IS NULL;
CREATE INDEX photos_searchable_taken ON photos(taken_at) WHERE status = 'indexed' AND missing_since IS NULL;
