-- ANALYZE sorts its whole sample (up to 300 x the largest statistics target rows) once per column it keeps
-- statistics for, and autovacuum analyzes a table again each time a tenth of it has changed: on a busy
-- install's growing events and messages tables that is every few seconds, and each pass sorted the event
-- payloads by jsonb comparison and the message bodies by collation. No query filters on these columns
-- themselves (payload and data are read through ->/->> expressions, from_jid and to_jid through BARE(),
-- which column statistics do not estimate; body is searched through `search`), so their statistics were
-- never read. Without them ANALYZE events took 64 ms instead of 189 ms and ANALYZE messages 668 ms
-- instead of 742 ms at 100,000 rows; in a loaded gateway's database analyze was ~24 % of PostgreSQL's CPU
-- (bench/README.md, "Where the crowd's cores went").
ALTER TABLE events ALTER COLUMN payload SET STATISTICS 0;
ALTER TABLE messages ALTER COLUMN body SET STATISTICS 0;
ALTER TABLE messages ALTER COLUMN subject SET STATISTICS 0;
ALTER TABLE messages ALTER COLUMN data SET STATISTICS 0;
ALTER TABLE messages ALTER COLUMN from_jid SET STATISTICS 0;
ALTER TABLE messages ALTER COLUMN to_jid SET STATISTICS 0;
