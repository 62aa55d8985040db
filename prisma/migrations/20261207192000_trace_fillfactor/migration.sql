-- A run's trace rows are written twice: an event is inserted PENDING and completed a moment later (its result, its
-- end time), and the run row is updated on every step. With full pages each such update moved the row to another
-- page and added an entry to every index of the table (4 on run_events, 7 on runs). Space left free on each page
-- lets PostgreSQL keep the new version on the same page with no index entries at all (a HOT update).
ALTER TABLE "run_events" SET (fillfactor = 50);
ALTER TABLE "runs" SET (fillfactor = 70);
