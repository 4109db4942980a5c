-- PostgreSQL's 0014 makes its answers' "frozen" trigger read the attempt by
-- the primary key only (a report index had matched its lookup). SQLite's
-- triggers (0003) already read `submitted_at_ms` by the key alone; this
-- file keeps the two folders' numbers in step and changes nothing.
SELECT 1;
