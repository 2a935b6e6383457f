-- The `jobs` table of 001 was never used: downloads resume from their partial files, lab runs
-- live in lab_runs, and the indexer's queue is the photos' status. Dropped so the schema says
-- only what the app does.
DROP TABLE IF EXISTS jobs;
